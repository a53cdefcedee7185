"""es_rerank.chunking against Elasticsearch's own tests (tests/conformance/chunk_cases.py),
plus the places where this port knowingly differs from Java, pinned."""

from __future__ import annotations

import itertools
import math
import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from es_rerank.chunking import (
    Chunk,
    ChunkRescorer,
    NoneChunking,
    RecursiveChunking,
    SentenceChunking,
    WordChunking,
    analyze,
    best_chunks,
    chunk_offsets,
    chunking_settings_from_dict,
    document_score,
    document_scores,
    for_cluster,
    rerank_inputs,
    score_chunks,
)
from es_rerank.chunking.breaks import word_boundaries
from es_rerank.chunking.chunkers import recursive_chunks, sentence_chunks, word_chunks
from es_rerank.errors import RetrieverValidationError
from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
from es_rerank.scores import normalize
from tests.conformance.chunk_cases import (
    AGGREGATION_CASES,
    CHUNK_CASES,
    MULTI_LINGUAL,
    PARSE_CASES,
    RECURSIVE_CASES,
    SCORER_CASES,
    TEST_TEXT,
    YAML_CASES,
    YAML_DOCS,
    AggregationCase,
    ChunkCase,
    EndToEndCase,
    ParseCase,
    ScorerCase,
    numbers_text,
)

# ----------------------------------------------------------------- parsing


@pytest.mark.parametrize("case", PARSE_CASES, ids=[c.name for c in PARSE_CASES])
def test_parse(case: ParseCase) -> None:
    if case.error is not None:
        with pytest.raises(RetrieverValidationError) as info:
            ChunkRescorer.from_dict(case.body)
        assert str(info.value) == case.error
        assert info.value.param.startswith("chunk_rescorer")
        return
    rescorer = ChunkRescorer.from_dict(case.body)
    assert rescorer.effective_size == case.size
    assert rescorer.effective_chunking_settings.to_dict() == case.settings
    assert ChunkRescorer.from_dict(rescorer.to_dict()) == rescorer


def test_to_dict_echoes_what_was_set() -> None:
    assert ChunkRescorer().to_dict() == {}
    assert ChunkRescorer.from_dict({"size": "3"}).to_dict() == {"size": 3}  # ES coerces
    body = {
        "size": 2,
        "chunking_settings": {"strategy": "word", "max_chunk_size": 40, "overlap": 4},
    }
    assert ChunkRescorer.from_dict(body).to_dict() == body


@pytest.mark.parametrize(
    ("body", "param", "message"),
    [
        ({"chunk_size": 100}, "chunk_rescorer", "unknown field [chunk_size]"),  # ES ignores it
        ({"size": 1.5}, "chunk_rescorer.size", "failed to parse field [size]"),
        ({"size": True}, "chunk_rescorer.size", "failed to parse field [size]"),
        (
            {"chunking_settings": "sentence"},
            "chunk_rescorer.chunking_settings",
            "must be an object",
        ),
        (
            {"chunking_settings": {"max_chunk_size": "100"}},
            "chunk_rescorer.chunking_settings",
            "cannot be converted to a [Integer]",  # ES: ClassCastException, a 500
        ),
        (
            {
                "chunking_settings": {
                    "strategy": "recursive",
                    "max_chunk_size": 20,
                    "separators": ["\\p{Lu}"],
                }
            },
            "chunk_rescorer.chunking_settings",
            "separator [\\p{Lu}] is not a regular expression this client can run",
        ),
    ],
)
def test_parse_refusals_beyond_es(body: dict[str, object], param: str, message: str) -> None:
    with pytest.raises(RetrieverValidationError) as info:
        ChunkRescorer.from_dict(body)
    assert info.value.param == param
    assert message in str(info.value)


def test_constructor_validates_like_the_parser() -> None:
    with pytest.raises(RetrieverValidationError, match="size must be greater than 0, was: -2"):
        ChunkRescorer(size=-2)
    with pytest.raises(RetrieverValidationError, match="chunking_settings must be"):
        ChunkRescorer(chunking_settings={"strategy": "word"})  # type: ignore[arg-type]
    assert chunking_settings_from_dict({"strategy": "none", "max_chunk_size": 5}) == NoneChunking()


# ----------------------------------------------------------------- chunkers


def _run(case: ChunkCase) -> list[tuple[int, int]]:
    if case.strategy == "word":
        return word_chunks(case.text, case.max_words, case.overlap)
    if case.strategy == "sentence":
        return sentence_chunks(case.text, case.max_words, case.overlap > 0)
    return recursive_chunks(case.text, case.max_words, case.separators)


@pytest.mark.parametrize(
    "case", CHUNK_CASES + RECURSIVE_CASES, ids=[c.name for c in CHUNK_CASES + RECURSIVE_CASES]
)
def test_chunker_case(case: ChunkCase) -> None:
    if case.error is not None:
        with pytest.raises(ValueError, match=re.escape(case.error)):
            _run(case)
        return
    offsets = _run(case)
    if case.offsets is not None:
        assert offsets == case.offsets
    if case.chunks is not None:
        assert [case.text[s:e] for s, e in offsets] == case.chunks
    if case.count is not None:
        assert len(offsets) == case.count


def _expected_word_chunks(num_words: int, window: int, overlap: int) -> int:
    # WordBoundaryChunkerTests.expectedNumberOfChunks
    if num_words < window:
        return 1
    step = window - overlap
    return 1 + (num_words - window + step - 1) // step


@pytest.mark.parametrize("num_words", [10, 22, 50, 73, 100])
@pytest.mark.parametrize(("window", "overlap"), [(10, 4), (10, 2), (20, 4), (20, 10)])
def test_word_number_of_chunks(num_words: int, window: int, overlap: int) -> None:
    # WordBoundaryChunkerTests.testNumberOfChunks / ...WithWordBoundaryChunkingSettings
    text = numbers_text(num_words)
    expected = _expected_word_chunks(num_words, window, overlap)
    assert len(word_chunks(text, window, overlap)) == expected
    settings_ = WordChunking(max_chunk_size=window, overlap=overlap)
    assert len(chunk_offsets(text, settings_)) == expected


@pytest.mark.parametrize("chunk_size", [10, 20, 100, 300])
def test_word_chunk_size_on_whitespace(chunk_size: int) -> None:
    # WordBoundaryChunkerTests.testChunkSizeOnWhiteSpaceNoOverlap
    words = len(TEST_TEXT.split())
    assert len(word_chunks(TEST_TEXT, chunk_size, 0)) == (words + chunk_size - 1) // chunk_size


@pytest.mark.parametrize("num_words", [4, 17, 61, 120])
@pytest.mark.parametrize(("window", "overlap"), [(20, 10), (10, 4), (15, 3)])
def test_word_window_contents(num_words: int, window: int, overlap: int) -> None:
    # WordBoundaryChunkerTests.testWindowSpanningWords / assertChunkContents
    text = numbers_text(num_words, strip=True)
    chunks = [text[s:e] for s, e in word_chunks(text, window, overlap)]
    start, index, step = 0, 0, window - overlap
    while True:
        end = min(start + window, num_words)
        expected = (" " if index > 0 else "") + " ".join(str(i) for i in range(start, end))
        assert chunks[index] == expected
        index += 1
        if end == num_words:
            break
        start += step
    assert len(chunks) == index


@pytest.mark.parametrize("text", MULTI_LINGUAL)
def test_word_multilingual(text: str) -> None:
    assert len(word_chunks(text, 10, 0)) > 1  # WordBoundaryChunkerTests.testMultilingual


def _sentence_sizes(text: str) -> list[int]:
    # SentenceBoundaryChunkerTests.sentenceSizes (Java's split drops trailing empties)
    return [len(re.split(r"[ \-]+", s.replace("=", ""))) for s in re.split(r"\.\s+", text)]


def _chunk_overlaps(sizes: list[int], max_words: int, with_overlap: bool) -> list[int]:
    # SentenceBoundaryChunkerTests.chunkOverlaps
    max_overlap = min(max_words // 2, 20)
    overlaps, running = [0], 0
    for i, size in enumerate(sizes):
        if running + size > max_words:
            running = size
            if with_overlap and i > 0:
                overlap = min(max_overlap, sizes[i - 1])
                overlaps.append(overlap)
                running += overlap
            else:
                overlaps.append(0)
        else:
            running += size
    return overlaps


@pytest.mark.parametrize("max_words", [100, 200])
def test_sentence_large_chunk_sizes(max_words: int) -> None:
    # SentenceBoundaryChunkerTests.testChunkSplitLargeChunkSizes(+WithChunkingSettings)
    offsets = chunk_offsets(
        TEST_TEXT, SentenceChunking(max_chunk_size=max_words, sentence_overlap=0)
    )
    chunks = [TEST_TEXT[s:e] for s, e in offsets]
    assert len(chunks) == len(_chunk_overlaps(_sentence_sizes(TEST_TEXT), max_words, False))
    for chunk in chunks:
        assert chunk[0].isupper()
        assert chunk.strip()[-1] == "."


@pytest.mark.parametrize("max_words", [70, 80, 100, 120, 150, 200])
def test_sentence_large_chunk_sizes_with_overlap(max_words: int) -> None:
    # SentenceBoundaryChunkerTests.testChunkSplitLargeChunkSizes_withOverlap
    chunks = [TEST_TEXT[s:e] for s, e in sentence_chunks(TEST_TEXT, max_words, True)]
    overlaps = _chunk_overlaps(_sentence_sizes(TEST_TEXT), max_words, True)
    assert len(chunks) == len(overlaps)
    assert chunks[0][0].isupper()
    for i, overlap in enumerate(overlaps):
        if overlap == 0:
            assert chunks[i][0].isupper()
        else:
            assert chunks[i - 1][-20:] in chunks[i]
    assert chunks[0].strip()[-1] == "." and chunks[-1].strip()[-1] == "."


@pytest.mark.parametrize(("max_words", "count"), [(10, 21), (30, 7), (50, 4)])
def test_sentence_longer_than_chunk_word_counts(max_words: int, count: int) -> None:
    # SentenceBoundaryChunkerTests.testChunkSplit_SentencesLongerThanChunkSize
    chunks = [TEST_TEXT[s:e] for s, e in sentence_chunks(TEST_TEXT, max_words, False)]
    assert len(chunks) == count
    for chunk in chunks:
        words = [w for w in re.split(r"[\s\-]+", chunk.strip().replace("=", "")) if w]
        if chunk.strip().endswith("."):
            assert len(words) <= max_words
        else:
            assert len(words) == max_words


@pytest.mark.parametrize("max_words", [10, 30, 50])
def test_sentence_longer_than_chunk_with_overlap(max_words: int) -> None:
    chunks = [TEST_TEXT[s:e] for s, e in sentence_chunks(TEST_TEXT, max_words, True)]
    assert "Word segmentation is the problem of dividing" in chunks[0]
    assert ", with solidification being a stronger norm." in chunks[-1]


def _sentence(num_words: int, index: int) -> str:
    # SentenceBoundaryChunkerTests.makeSentence
    middle = "".join(f"{i} " for i in range(1, num_words - 1))
    return f"SStart{index} {middle}{num_words - 1}. "


@pytest.mark.parametrize("num_sentences", [2, 3, 4, 5])
def test_sentence_overlap_sentences_fit(num_sentences: int) -> None:
    # SentenceBoundaryChunkerTests.testWithOverlap_SentencesFitInChunks
    num_chunks, chunk_size = 4, 100
    starts, parts, index = [0], [], 0
    rough = chunk_size // num_sentences - 1
    for _ in range(num_sentences):
        parts.append(_sentence(rough, index))
        index += 1
    last = rough
    for _ in range(1, num_chunks):
        starts.append(index - 1)
        count = last
        while count + rough < chunk_size:
            parts.append(_sentence(rough, index))
            index += 1
            last = rough
            count += rough
    text = "".join(parts)
    chunks = [text[s:e] for s, e in sentence_chunks(text, chunk_size, True)]
    assert len(chunks) == num_chunks
    for chunk, start in zip(chunks, starts, strict=True):
        assert chunk.startswith(f"SStart{start}")
        assert chunk.strip().endswith(".")


def test_sentence_short_long_short_with_overlap() -> None:
    # SentenceBoundaryChunkerTests.testShortLongShortSentences_WithOverlap
    text = ""
    for n, length in enumerate([15, 30, 20, 5]):
        text += f"SStart{n} " + "".join(f"{i} " for i in range(1, length - 1)) + f"{length - 1}. "
    chunks = [text[s:e].strip() for s, e in sentence_chunks(text, 40, True)]
    assert len(chunks) == 5
    assert chunks[0].startswith("SStart0") and chunks[0].endswith(".")
    assert chunks[1].startswith("SStart0") and not chunks[1].endswith(".")
    assert chunks[2].endswith(".") and chunks[3].endswith(".")
    assert chunks[4].startswith("SStart2") and "SStart3" in chunks[4] and chunks[4].endswith(".")


def test_skip_words() -> None:
    # SentenceBoundaryChunkerTests.testSkipWords
    text = "".join(f"word{i} " for i in range(50))
    words = word_boundaries(text)
    pos = words.skip_words(0, 3)
    assert text[pos:].startswith("word3 ")
    pos = words.skip_words(pos + 1, 1)
    assert text[pos:].startswith("word4 ")
    pos = words.skip_words(pos + 1, 5)
    assert text[pos:].startswith("word9 ")
    assert words.skip_words(0, 60) > 0


def test_word_count_after_a_line_break_includes_the_previous_word() -> None:
    # ChunkerUtils.countWords starts at preceding(start): the word ending the line above
    text = "Hello\nWorld is here."
    words = word_boundaries(text)
    assert words.count_words(6, len(text)) == 4  # "World is here" is 3 words


def test_none_and_default_chunking() -> None:
    assert chunk_offsets(TEST_TEXT, NoneChunking()) == [(0, len(TEST_TEXT))]
    # default: 300-word sentence chunks, the whole 135-word paragraph in one
    assert chunk_offsets(TEST_TEXT, ChunkRescorer().effective_chunking_settings) == [
        (0, len(TEST_TEXT))
    ]


def test_recursive_markdown_headers() -> None:
    # RecursiveChunkerTests.testMarkdownChunking with every header kind once
    sentence = "This is a test sentence that has ten total words. "
    headers = [
        "# Header\n",
        "## Header\n",
        "### Header\n",
        "###### Header\n",
        "Header\n-\n",
        "Header\n=\n",
    ]
    text = "#### Header\n" + sentence + "".join("\n" + h + sentence for h in headers)
    parsed = chunking_settings_from_dict(
        {"strategy": "recursive", "max_chunk_size": 15, "separator_group": "markdown"}
    )
    assert isinstance(parsed, RecursiveChunking)
    offsets = chunk_offsets(text, parsed)
    lengths = [len("#### Header\n") + len(sentence)] + [
        len("\n" + h) + len(sentence) for h in headers
    ]
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    assert offsets == [(s, s + n) for s, n in zip(starts, lengths, strict=True)]


@settings(max_examples=60, deadline=None)
@given(
    st.text(alphabet=st.sampled_from(list("ab .,!?\n'-é1")), max_size=300),
    st.integers(min_value=1, max_value=30),
)
def test_chunks_without_overlap_tile_the_text(text: str, size: int) -> None:
    for offsets in (word_chunks(text, size, 0), sentence_chunks(text, max(size, 2), False)):
        assert offsets[0][0] == 0
        assert all(a[1] == b[0] for a, b in itertools.pairwise(offsets))
        # ES's word chunker drops a tail without words after the last full chunk
        tail = text[offsets[-1][1] :]
        assert word_boundaries(tail).count_words(0, len(tail)) == 0 if tail else True


def test_word_chunker_drops_a_wordless_tail() -> None:
    # WordBoundaryChunker: a last window holding only the overlap (here: no word) is skipped
    assert word_chunks("1?", 1, 0) == [(0, 1)]
    assert word_chunks("one two.", 2, 0) == [(0, 7)]


# ----------------------------------------------------------------- MemoryIndexChunkScorer


@pytest.mark.parametrize("case", SCORER_CASES, ids=[c.name for c in SCORER_CASES])
def test_scorer_case(case: ScorerCase) -> None:
    scored = score_chunks(case.chunks or [], case.query, case.max_results, backfill=case.backfill)
    assert [c.index for c in scored] == case.order
    if case.chunks:
        assert [c.text for c in scored] == [case.chunks[i] for i in case.order]
    if case.zero_scores:
        assert all(c.score == 0.0 for c in scored)
    elif scored:
        assert all(c.score > 0 for c in scored)
        assert [c.score for c in scored] == sorted((c.score for c in scored), reverse=True)


def _bm25_float64(chunks: list[str], query: str) -> dict[int, float]:
    """Textbook BM25 without Lucene's one-byte length norms, for a cross-check."""
    docs = [analyze(c) for c in chunks]
    n = sum(1 for d in docs if d)
    avgdl = sum(len(d) for d in docs) / n
    out: dict[int, float] = {}
    for term, boost in {t: analyze(query).count(t) for t in analyze(query)}.items():
        df = sum(1 for d in docs if term in d)
        if not df:
            continue
        idf = math.log(1 + (n - df + 0.5) / (df + 0.5))
        for i, d in enumerate(docs):
            f = d.count(term)
            if f:
                out[i] = out.get(i, 0.0) + boost * idf * f / (
                    f + 1.2 * (0.25 + 0.75 * len(d) / avgdl)
                )
    return out


def test_bm25_matches_the_formula_for_short_chunks() -> None:
    # lengths below 24 are stored exactly, so only float32 rounding separates the two
    chunks = ["the moon hides the sun", "a lunar eclipse", "the sun the sun the sun", "moon"]
    reference = _bm25_float64(chunks, "the sun and the moon")
    scored = score_chunks(chunks, "the sun and the moon", 4)
    assert {c.index for c in scored} == set(reference)
    for c in scored:
        assert c.score == pytest.approx(reference[c.index], rel=1e-6)
        assert c.score == float(np.float32(c.score))


def test_bm25_lengths_share_a_norm_above_24_tokens() -> None:
    # SmallFloat.intToByte4: 40 and 41 tokens encode to the same byte, so the extra
    # filler word does not lower the score; textbook BM25 would
    filler = "x " * 38
    chunks = [f"moon {filler}y", f"moon {filler}y z", "unrelated words only"]
    a, b = sorted(score_chunks(chunks, "moon", 2), key=lambda c: c.index)
    assert a.score == b.score  # tie: the earlier chunk first
    assert [c.index for c in score_chunks(chunks, "moon", 2)] == [0, 1]
    reference = _bm25_float64(chunks, "moon")
    assert reference[0] != reference[1]


def test_query_terms_repeat_as_boost() -> None:
    chunks = ["moon sun", "sun star", "comet"]
    once = {c.index: c.score for c in score_chunks(chunks, "moon sun", 3)}
    twice = {c.index: c.score for c in score_chunks(chunks, "moon moon sun", 3)}
    assert twice[0] > once[0] and twice[1] == once[1]


def test_too_many_query_clauses() -> None:
    query = " ".join(f"w{i}" for i in range(1025))
    with pytest.raises(ValueError, match="maxClauseCount is set to 1024"):
        score_chunks(["w1 w2"], query, 1)


# ----------------------------------------------------------------- the analyzer


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        (
            "The Quick-Brown fox's 3.5 e-mails, U.S.A.",
            ["the", "quick", "brown", "fox's", "3.5", "e", "mails", "u.s.a"],
        ),
        ("foo_bar 1,000 -- ?!", ["foo_bar", "1,000"]),
        (
            "日本語のテキスト",
            ["日", "本", "語", "の", "テキスト"],
        ),  # Han and Hiragana: one char each
        ("ภาษาไทยง่าย ok", ["ภาษาไทยง่าย", "ok"]),  # a Thai run stays one token
        ("👍🏽 🇫🇷 #️⃣ x", ["👍🏽", "🇫🇷", "#️⃣", "x"]),  # emoji sequences are tokens
        ("İSTANBUL ΟΔΟΣ", ["istanbul", "οδοσ"]),  # per-code-point lower case, no final sigma
        ("a" * 300, ["a" * 255, "a" * 45]),  # max token length 255
    ],
)
def test_standard_analyzer(text: str, tokens: list[str]) -> None:
    assert analyze(text) == tokens


# ----------------------------------------------------------------- best chunks and scores


def test_best_chunks_keeps_only_matching_chunks() -> None:
    text = "Alpha beta gamma. Delta epsilon zeta. Eta theta iota. Kappa lambda mu. Moon nu."
    rescorer = ChunkRescorer(
        size=3, chunking_settings=SentenceChunking(max_chunk_size=20, sentence_overlap=0)
    )
    # every sentence fits in one 20-word chunk: one chunk for the whole text
    assert [c.text for c in best_chunks(text, "moon", rescorer)] == [text]
    rescorer = ChunkRescorer(size=3, chunking_settings=WordChunking(max_chunk_size=10, overlap=1))
    chunks = best_chunks(text, "moon", rescorer)
    assert [(c.index, c.text) for c in chunks] == [
        (1, ". Kappa lambda mu. Moon nu.")
    ]  # only 1 of 2 matches
    assert all(text[c.start : c.end] == c.text for c in chunks)


def test_best_chunks_backfill_in_text_order() -> None:
    text = " ".join(f"word{i}" for i in range(35))
    rescorer = ChunkRescorer(size=2, chunking_settings=WordChunking(max_chunk_size=10, overlap=2))
    chunks = best_chunks(text, "absent", rescorer)
    assert [(c.index, c.start, c.score) for c in chunks] == [(0, 0, 0.0), (1, chunks[1].start, 0.0)]
    assert chunks[1].text.startswith(" word8")


def test_query_without_terms_backfills() -> None:
    # divergence: 9.2 hands Lucene a null query (the shard fails); later ES backfills
    assert [c.index for c in best_chunks("Sun. Moon.", "?!", ChunkRescorer())] == [0]


def test_blank_inference_text_sends_nothing() -> None:
    assert best_chunks("Sun. Moon.", "  \t", ChunkRescorer()) == []


def test_offsets_are_python_indices_after_astral_characters() -> None:
    # divergence: ES reports UTF-16 offsets; 😀 is two UTF-16 units, one Python character
    text = "😀 " + " ".join(f"w{i}" for i in range(12))
    chunks = best_chunks(
        text, "w11", ChunkRescorer(chunking_settings=WordChunking(max_chunk_size=10, overlap=1))
    )
    assert chunks == [
        Chunk(
            text=text[chunks[0].start :],
            start=chunks[0].start,
            end=len(text),
            index=1,
            score=chunks[0].score,
        )
    ]
    assert text[chunks[0].start :].startswith(" w9")


@pytest.mark.parametrize("case", AGGREGATION_CASES, ids=[c.name for c in AGGREGATION_CASES])
def test_aggregation_case(case: AggregationCase) -> None:
    owners = [doc for doc, n in enumerate(case.chunks_per_doc) for _ in range(n)]
    raw = [0.0] * len(owners)
    for index, score in case.ranked:
        raw[index] = score
    assert document_scores(owners, raw, len(case.chunks_per_doc)) == case.expected


def test_document_scores_refuse_a_short_reply() -> None:
    # divergence: ES would give the documents left without a score raw 0.0
    with pytest.raises(ValueError, match=r"mismatch: \[3\] vs \[2\]"):
        document_scores([0, 1, 1], [1.0, 2.0], 2)
    assert document_score([]) == 0.0
    assert document_scores([0], [-4.0], 2) == [-4.0, 0.0]


def _test_reranking_service(inputs: list[str]) -> list[float]:
    """TestRerankingServiceExtension for non-numeric inputs: input i scores base + 0.2 (i+1)."""
    base = -0.37
    return [base + 0.2 * (i + 1) for i in range(len(inputs))]


@pytest.mark.parametrize("case", YAML_CASES, ids=[c.name for c in YAML_CASES])
def test_yaml_end_to_end(case: EndToEndCase) -> None:
    values = [YAML_DOCS[i] for i in case.child_ids]
    inputs = rerank_inputs(values, case.inference_text, ChunkRescorer.from_dict(case.rescorer))
    assert inputs.texts == case.expected_inputs
    raw = document_scores(inputs.owners, _test_reranking_service(inputs.texts), len(values))
    ranked = sorted(range(len(values)), key=lambda d: -normalize(raw[d]))  # stable: child order
    assert [case.child_ids[d] for d in ranked] == case.expected_ids


def test_min_score_sees_the_raw_max_then_one_normalization() -> None:
    # preprocess(): min_score against the raw max, survivors normalized once
    inputs = rerank_inputs(["Sun. Moon.", "Rain.", None], "moon", ChunkRescorer(size=2))
    raw = document_scores(inputs.owners, [-1.5, 0.25], 3)
    assert raw == [-1.5, 0.25, 0.0] and inputs.chunks[2] is None
    kept = {d: normalize(s) for d, s in enumerate(raw[:2]) if s >= -1.0}
    assert kept == {1: 1.25}


# -- the default chunk size by cluster version and endpoint (ES 9.3+) ----------------------


@pytest.mark.parametrize(
    ("version", "endpoint", "words"),
    [
        ((9, 2, 4), {"service": "jinaai"}, 300),  # before 9.3: ChunkScorerConfig's 300
        ((9, 3, 0), {"service": "jinaai"}, 5500),
        ((9, 3, 0), {"service": "cohere", "service_settings": {"model_id": "rerank-v3.5"}}, 2800),
        ((9, 3, 0), {"service": "voyageai", "service_settings": {"model_id": "rerank-2"}}, 5500),
        ((9, 4, 0), {"service": "watsonxai"}, 350),
        ((9, 3, 0), {"service": "custom"}, 250),
        ((9, 3, 0), {"service": "elasticsearch", "service_settings": {"model_id": "m"}}, 300),
    ],
)
def test_default_chunk_size_follows_version_and_endpoint(
    version: tuple[int, int, int], endpoint: dict[str, Any], words: int
) -> None:
    rescorer = for_cluster(ChunkRescorer(size=2), version, endpoint)
    assert rescorer.effective_chunking_settings == SentenceChunking(
        max_chunk_size=words, sentence_overlap=0
    )
    assert rescorer.to_dict() == {"size": 2}  # the resolved default is not sent
    assert rescorer == ChunkRescorer(size=2)


def test_explicit_chunking_settings_win_over_the_endpoint_default() -> None:
    explicit = ChunkRescorer.from_dict({"chunking_settings": {"max_chunk_size": 40}})
    resolved = for_cluster(explicit, (9, 3, 0), {"service": "jinaai"})
    assert resolved.effective_chunking_settings.to_dict()["max_chunk_size"] == 40


def test_an_endpoint_without_a_known_window_is_a_clear_error() -> None:
    from es_rerank.errors import ConfigurationError

    with pytest.raises(ConfigurationError, match="give chunking_settings"):
        for_cluster(ChunkRescorer(), (9, 3, 0), {"service": "hugging_face"})
    # before 9.3 the endpoint does not matter
    before = for_cluster(ChunkRescorer(), (9, 2, 0), {"service": "hugging_face"})
    assert before.effective_chunking_settings == SentenceChunking(300, sentence_overlap=0)


def test_a_resolved_rescorer_chunks_by_the_endpoint_default_in_a_search() -> None:
    """Given to the retriever, the resolved rescorer cuts text by the endpoint's window
    while the request body stays ES's (no chunking_settings)."""
    text = " ".join(f"Sentence number {i} talks about the moon and tides." for i in range(60))
    for version, endpoint, chunks in [
        ((9, 2, 0), {"service": "jinaai"}, 2),  # 540 words in 300-word chunks
        ((9, 3, 0), {"service": "jinaai"}, 1),  # one 5500-word chunk
        ((9, 3, 0), {"service": "custom"}, 3),  # 250-word chunks
    ]:
        rescorer = for_cluster(ChunkRescorer(size=5), version, endpoint)
        spec = TextSimilarityReranker(
            retriever=StandardRetriever(), field="t", inference_text="moon", chunk_rescorer=rescorer
        )
        settings = spec.effective_chunk_rescorer.effective_chunking_settings  # type: ignore[union-attr]
        assert len(chunk_offsets(text, settings)) == chunks, (version, endpoint)
        assert spec.to_dict()["text_similarity_reranker"]["chunk_rescorer"] == {"size": 5}
