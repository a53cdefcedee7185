# ruff: noqa: E501  (strings quoted verbatim from Elasticsearch tests)
"""Elasticsearch's own expectations for ``chunk_rescorer``, as data.

Every case names the Elasticsearch file it was taken from (repository elastic/elasticsearch;
``core`` is ``x-pack/plugin/core/src/test/java/org/elasticsearch/xpack/core``, ``inference``
is ``x-pack/plugin/inference/src``). Where ES asserts a property rather than a value (a
number of chunks from a formula, chunks starting with a capital letter) the case keeps
ES's parameters and ``tests/es_rerank/chunking/test_chunking.py`` applies ES's own formula or check.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

CORE_CHUNKING = "x-pack/plugin/core/src/test/java/org/elasticsearch/xpack/core/inference/chunking"
WORD_TESTS = f"{CORE_CHUNKING}/WordBoundaryChunkerTests.java"
SENTENCE_TESTS = f"{CORE_CHUNKING}/SentenceBoundaryChunkerTests.java"
RECURSIVE_TESTS = f"{CORE_CHUNKING}/RecursiveChunkerTests.java"
SCORER_TESTS = (
    "x-pack/plugin/core/src/test/java/org/elasticsearch/xpack/core/common/chunks/"
    "MemoryIndexChunkScorerTests.java"
)
RANK = "x-pack/plugin/inference/src/test/java/org/elasticsearch/xpack/inference/rank/textsimilarity"
CONFIG_TESTS = f"{RANK}/ChunkScorerConfigTests.java"
COORDINATOR_TESTS = f"{RANK}/TextSimilarityRankFeaturePhaseRankCoordinatorContextTests.java"
YAML_TESTS = (
    "x-pack/plugin/inference/src/yamlRestTest/resources/rest-api-spec/test/inference/"
    "70_text_similarity_rank_retriever.yml"
)
MAIN_CHUNKING = "x-pack/plugin/core/src/main/java/org/elasticsearch/xpack/core/inference/chunking"
CONFIG_SOURCE = (
    "x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/rank/"
    "textsimilarity/ChunkScorerConfig.java"
)

# WordBoundaryChunkerTests.TEST_TEXT (a Wikipedia paragraph on word segmentation)
TEST_TEXT = (
    "Word segmentation is the problem of dividing a string of written language into its "
    "component words.\nIn English and many other languages using some form of the Latin "
    "alphabet, the space is a good approximation of a word divider (word delimiter), although "
    "this concept has limits because of the variability with which languages emically regard "
    "collocations and compounds. Many English compound nouns are variably written (for "
    "example, ice box = ice-box = icebox; pig sty = pig-sty = pigsty) with a corresponding "
    "variation in whether speakers think of them as noun phrases or single nouns; there are "
    "trends in how norms are set, such as that open compounds often tend eventually to "
    "solidify by widespread convention, but variation remains systemic. In contrast, German "
    "compound nouns show less orthographic variation, with solidification being a stronger "
    "norm."
)

# Two of WordBoundaryChunkerTests.MULTI_LINGUAL
MULTI_LINGUAL = [
    "Histoarysk wie in acre in stik lân dat 40 roeden (oftewol 1 furlong of ⅛ myl of 660 foet) "
    "lang wie, en 4 roeden (of 66 foet) breed. Men is fan tinken dat dat likernôch de grûnmjitte "
    "wie dy't men mei in jok oksen yn ien dei beploegje koe.",
    "創業当初の「太平洋化学工業社」から1959年太平洋化学工業株式会社へ、1987年には太平洋化学㈱に社名を変更。 "
    "1990年以降、海外拠点を増やし本格的な国際進出を始動。 "
    "創業者がつくりあげた化粧品会社を世界企業へと成長させるべく2002年3月英文社名AMOREPACIFICに改めた。",
]


def numbers_text(num_words: int, strip: bool = False) -> str:
    """ES's ``for (i < numWords) sb.append(i).append(' ')``."""
    text = "".join(f"{i} " for i in range(num_words))
    return text.rstrip() if strip else text


# ----------------------------------------------------------------- chunk_rescorer parsing


@dataclass(frozen=True)
class ParseCase:
    name: str
    source: str
    body: dict[str, Any]
    size: int | None = None  # effective size expected
    settings: dict[str, Any] | None = None  # effective chunking settings, as ES's asMap
    error: str | None = None  # exact message


PARSE_CASES = [
    ParseCase(
        "defaults",
        f"{YAML_TESTS} (Reranking based on rescore_chunks using defaults); {CONFIG_SOURCE}",
        {},
        size=1,
        settings={"strategy": "sentence", "max_chunk_size": 300, "sentence_overlap": 0},
    ),
    ParseCase(
        "size zero",
        f"{YAML_TESTS} (specifying number of rescore_chunks must be > 0)",
        {"size": 0},
        error="size must be greater than 0, was: 0",
    ),
    ParseCase(
        "only max_chunk_size",
        f"{CONFIG_TESTS} testChunkingSettingsFromMapWithOnlyMaxChunkSize",
        {"chunking_settings": {"max_chunk_size": 500}},
        size=1,
        settings={"strategy": "sentence", "max_chunk_size": 500, "sentence_overlap": 0},
    ),
    ParseCase(
        "only max_chunk_size with size",
        f"{YAML_TESTS} (specifying only max chunk size will default remaining settings)",
        {"size": 20, "chunking_settings": {"max_chunk_size": 20}},
        size=20,
        settings={"strategy": "sentence", "max_chunk_size": 20, "sentence_overlap": 0},
    ),
    ParseCase(
        "full sentence settings",
        f"{CONFIG_TESTS} testChunkingSettingsFromMapWithFullSettings",
        {
            "chunking_settings": {
                "strategy": "sentence",
                "max_chunk_size": 200,
                "sentence_overlap": 1,
            }
        },
        size=1,
        settings={"strategy": "sentence", "max_chunk_size": 200, "sentence_overlap": 1},
    ),
    ParseCase(
        "pull request example",
        "elastic/elasticsearch pull request 133576 (the chunk_rescorer example request)",
        {
            "size": 3,
            "chunking_settings": {
                "strategy": "sentence",
                "max_chunk_size": 25,
                "sentence_overlap": 0,
            },
        },
        size=3,
        settings={"strategy": "sentence", "max_chunk_size": 25, "sentence_overlap": 0},
    ),
    ParseCase(
        "sentence overlap defaults to one",
        f"{MAIN_CHUNKING}/SentenceBoundaryChunkingSettings.java (DEFAULT_OVERLAP = 1)",
        {"chunking_settings": {"strategy": "sentence", "max_chunk_size": 40}},
        size=1,
        settings={"strategy": "sentence", "max_chunk_size": 40, "sentence_overlap": 1},
    ),
    ParseCase(
        "invalid sentence settings",
        f"{YAML_TESTS} (specifying chunking settings requires valid chunking settings)",
        {
            "size": 20,
            "chunking_settings": {
                "strategy": "sentence",
                "max_chunk_size": 10,
                "sentence_overlap": 20,
            },
        },
        error=(
            "Validation Failed: 1: [chunking_settings] Invalid value [10.0]. [max_chunk_size] "
            "must be greater than or equal to [20.0];2: sentence_overlap[20] must be either 0 or 1;"
        ),
    ),
    ParseCase(
        "shorthand below the sentence minimum",
        f"{CONFIG_SOURCE} defaultChunkingSettings -> SentenceBoundaryChunkingSettings.validate()",
        {"chunking_settings": {"max_chunk_size": 10}},
        error="Validation Failed: 1: max_chunk_size[10] must be above 20;",
    ),
    ParseCase(
        "word settings",
        f"{MAIN_CHUNKING}/WordBoundaryChunkingSettings.java fromMap",
        {"chunking_settings": {"strategy": "word", "max_chunk_size": 100, "overlap": 50}},
        size=1,
        settings={"strategy": "word", "max_chunk_size": 100, "overlap": 50},
    ),
    ParseCase(
        "word overlap is required",
        f"{MAIN_CHUNKING}/WordBoundaryChunkingSettings.java fromMap (extractRequiredPositive...)",
        {"chunking_settings": {"strategy": "word", "max_chunk_size": 100}},
        error="Validation Failed: 1: [chunking_settings] does not contain the required setting [overlap];",
    ),
    ParseCase(
        "word overlap zero is refused",
        f"{MAIN_CHUNKING}/WordBoundaryChunkingSettings.java fromMap (overlap must be positive)",
        {"chunking_settings": {"strategy": "word", "max_chunk_size": 100, "overlap": 0}},
        error=(
            "Validation Failed: 1: [chunking_settings] Invalid value [0]. [overlap] must be a "
            "positive integer;"
        ),
    ),
    ParseCase(
        "word overlap above half",
        f"{MAIN_CHUNKING}/WordBoundaryChunkingSettings.java fromMap",
        {"chunking_settings": {"strategy": "word", "max_chunk_size": 20, "overlap": 11}},
        error=(
            "Validation Failed: 1: [chunking_settings] Invalid value [11.0]. [overlap] must be "
            "less than or equal to [10.0];"
        ),
    ),
    ParseCase(
        "word size below ten and an unknown key",
        f"{MAIN_CHUNKING}/WordBoundaryChunkingSettings.java fromMap",
        {
            "chunking_settings": {
                "strategy": "word",
                "max_chunk_size": 5,
                "overlap": 1,
                "sentence_overlap": 0,
            }
        },
        error=(
            "Validation Failed: 1: Word based chunking settings can not have the following "
            "settings: [sentence_overlap];2: [chunking_settings] Invalid value [5.0]. "
            "[max_chunk_size] must be greater than or equal to [10.0];"
        ),
    ),
    ParseCase(
        "max_chunk_size of the wrong type",
        f"{MAIN_CHUNKING}/SentenceBoundaryChunkingSettings.java fromMap (InferenceUtils.removeAsType)",
        {"chunking_settings": {"strategy": "sentence", "max_chunk_size": "300"}},
        error=(
            "Validation Failed: 1: field [max_chunk_size] is not of the expected type. The value "
            "[300] cannot be converted to a [Integer];"
        ),
    ),
    ParseCase(
        "unknown strategy",
        "server/src/main/java/org/elasticsearch/inference/ChunkingStrategy.java fromString",
        {"chunking_settings": {"strategy": "Sentence", "max_chunk_size": 300}},
        error="Invalid chunkingStrategy Sentence",
    ),
    ParseCase(
        "no strategy",
        f"{MAIN_CHUNKING}/ChunkingSettingsBuilder.java fromMap",
        {"chunking_settings": {"max_chunk_size": 300, "sentence_overlap": 0}},
        error="Can't generate Chunker without ChunkingStrategy provided",
    ),
    ParseCase(
        "empty settings object",
        f"{MAIN_CHUNKING}/ChunkingSettingsBuilder.java fromMap(map, false) -> null -> default",
        {"chunking_settings": {}},
        size=1,
        settings={"strategy": "sentence", "max_chunk_size": 300, "sentence_overlap": 0},
    ),
    ParseCase(
        "null settings",
        f"{RANK.replace('test', 'main')}/TextSimilarityRankRetrieverBuilder.java (declareObjectOrNull)",
        {"size": 2, "chunking_settings": None},
        size=2,
        settings={"strategy": "sentence", "max_chunk_size": 300, "sentence_overlap": 0},
    ),
    ParseCase(
        "none strategy",
        f"{MAIN_CHUNKING}/ChunkingSettingsBuilder.java (NONE -> NoneChunkingSettings.INSTANCE)",
        {"chunking_settings": {"strategy": "none"}},
        size=1,
        settings={"strategy": "none"},
    ),
    ParseCase(
        "recursive markdown group",
        f"{MAIN_CHUNKING}/RecursiveChunkingSettings.java fromMap, SeparatorGroup.java",
        {
            "chunking_settings": {
                "strategy": "recursive",
                "max_chunk_size": 50,
                "separator_group": "markdown",
            }
        },
        size=1,
        settings={
            "strategy": "recursive",
            "max_chunk_size": 50,
            "separators": [
                "\n# ",
                "\n## ",
                "\n### ",
                "\n#### ",
                "\n##### ",
                "\n###### ",
                "\n^(?!\\s*$).*\\n-{1,}\\n",
                "\n^(?!\\s*$).*\\n={1,}\\n",
            ],
        },
    ),
    ParseCase(
        "recursive default separators",
        f"{MAIN_CHUNKING}/RecursiveChunkingSettings.java (SeparatorGroup.PLAINTEXT)",
        {"chunking_settings": {"strategy": "recursive", "max_chunk_size": 50}},
        size=1,
        settings={
            "strategy": "recursive",
            "max_chunk_size": 50,
            "separators": ["(?<!\\n)\\n\\n(?!\\n)", "(?<!\\n)\\n(?!\\n)"],
        },
    ),
    ParseCase(
        "recursive with both separators and a group",
        f"{MAIN_CHUNKING}/RecursiveChunkingSettings.java fromMap",
        {
            "chunking_settings": {
                "strategy": "recursive",
                "max_chunk_size": 50,
                "separator_group": "plaintext",
                "separators": ["\n"],
            }
        },
        error=(
            "Validation Failed: 1: Recursive chunking settings can not have both separators "
            "and separator_set;"
        ),
    ),
    ParseCase(
        "recursive with no separators",
        f"{MAIN_CHUNKING}/RecursiveChunkingSettings.java fromMap",
        {"chunking_settings": {"strategy": "recursive", "max_chunk_size": 50, "separators": []}},
        error="Validation Failed: 1: Recursive chunking settings can not have an empty list of separators;",
    ),
    ParseCase(
        "recursive with an unknown group",
        f"{MAIN_CHUNKING}/RecursiveChunkingSettings.java fromMap (InferenceUtils.invalidValue)",
        {
            "chunking_settings": {
                "strategy": "recursive",
                "max_chunk_size": 50,
                "separator_group": "html",
            }
        },
        error=(
            "Validation Failed: 1: [chunking_settings] Invalid value [html] received. "
            "[separator_group] must be one of [markdown, plaintext];"
        ),
    ),
]

# ----------------------------------------------------------------- chunkers


@dataclass(frozen=True)
class ChunkCase:
    """``chunks``: the exact chunk texts ES asserts (``None``: see ``count``)."""

    name: str
    source: str
    text: str
    strategy: str  # word | sentence | recursive
    max_words: int
    overlap: int = 0  # word overlap; 1/0 = include the preceding sentence
    separators: tuple[str, ...] = ()
    chunks: list[str] | None = None
    offsets: list[tuple[int, int]] | None = None
    count: int | None = None
    error: str | None = None


_WORD_EDGE_TEXTS = ["", " ", "   ", "   b", "b", ". ", " , ", " ,"]

CHUNK_CASES: list[ChunkCase] = [
    ChunkCase(
        "word: single split",
        f"{WORD_TESTS} testSingleSplit",
        TEST_TEXT,
        "word",
        10_000,
        0,
        chunks=[TEST_TEXT],
    ),
    ChunkCase(
        "word: comma",
        f"{WORD_TESTS} testPunctuation",
        "Comma, separated",
        "word",
        1,
        0,
        chunks=["Comma", ", separated"],
    ),
    ChunkCase(
        "word: abbreviation",
        f"{WORD_TESTS} testPunctuation",
        "Mme. Thénardier",
        "word",
        1,
        0,
        chunks=["Mme", ". Thénardier"],
    ),
    ChunkCase(
        "word: apostrophe",
        f"{WORD_TESTS} testPunctuation",
        "Won't you chunk",
        "word",
        1,
        0,
        chunks=["Won't", " you", " chunk"],
    ),
    ChunkCase(
        "word: apostrophe, one chunk",
        f"{WORD_TESTS} testPunctuation",
        "Won't you chunk",
        "word",
        10,
        0,
        chunks=["Won't you chunk"],
    ),
    ChunkCase(
        "word: repeated char",
        f"{WORD_TESTS} testSingleCharRepeated",
        "a" * 32_000,
        "word",
        100,
        10,
        chunks=["a" * 32_000],
    ),
    ChunkCase(
        "word: overlap larger than half",
        f"{WORD_TESTS} testInvalidParams",
        "not evaluated",
        "word",
        4,
        10,
        error="Invalid chunking parameters, overlap [10] must be < chunk size / 2 [4 / 2 = 2]",
    ),
    ChunkCase(
        "word: overlap just above half",
        f"{WORD_TESTS} testInvalidParams",
        "not evaluated",
        "word",
        10,
        6,
        error="Invalid chunking parameters, overlap [6] must be < chunk size / 2 [10 / 2 = 5]",
    ),
    *[
        ChunkCase(
            f"word: edge text {t!r}",
            f"{WORD_TESTS} testEmptyString/testWhitespace/testBlankString/testSingleChar",
            t,
            "word",
            100,
            10,
            chunks=[t],
        )
        for t in _WORD_EDGE_TEXTS
    ],
    *[
        ChunkCase(
            f"word: {n} words, no overlap window 10 of 3",
            f"{WORD_TESTS} testWindowSpanningWithOverlapNumWordsInOverlapSection",
            numbers_text(n),
            "word",
            10,
            3,
            count=1,
        )
        for n in (7, 8, 9, 10)
    ],
    ChunkCase(
        "word: 11 words, window 10 of 3",
        f"{WORD_TESTS} testWindowSpanningWithOverlapNumWordsInOverlapSection",
        numbers_text(11),
        "word",
        10,
        3,
        count=2,
    ),
    ChunkCase(
        "word: text shorter than window",
        f"{WORD_TESTS} testWindowSpanning_TextShorterThanWindow",
        numbers_text(8),
        "word",
        10,
        5,
        count=1,
    ),
    ChunkCase(
        "sentence: 10 words, sentences longer than chunks",
        f"{SENTENCE_TESTS} testChunkSplit_SentencesLongerThanChunkSize",
        TEST_TEXT,
        "sentence",
        10,
        count=21,
    ),
    ChunkCase(
        "sentence: 30 words",
        f"{SENTENCE_TESTS} testChunkSplit_SentencesLongerThanChunkSize",
        TEST_TEXT,
        "sentence",
        30,
        count=7,
    ),
    ChunkCase(
        "sentence: 50 words",
        f"{SENTENCE_TESTS} testChunkSplit_SentencesLongerThanChunkSize",
        TEST_TEXT,
        "sentence",
        50,
        count=4,
    ),
    ChunkCase(
        "sentence: chunk larger than text",
        f"{SENTENCE_TESTS} testChunk_ChunkSizeLargerThanText",
        TEST_TEXT,
        "sentence",
        500,
        0,
        chunks=[TEST_TEXT],
    ),
    ChunkCase(
        "sentence: chunk larger than text, overlap",
        f"{SENTENCE_TESTS} testChunk_ChunkSizeLargerThanText",
        TEST_TEXT,
        "sentence",
        500,
        1,
        chunks=[TEST_TEXT],
    ),
    ChunkCase(
        "sentence: repeated char",
        f"{SENTENCE_TESTS} testSingleCharRepeated",
        "a" * 32_000,
        "sentence",
        100,
        1,
        chunks=["a" * 32_000],
    ),
    *[
        ChunkCase(
            f"sentence: edge text {t!r} overlap {o}",
            f"{SENTENCE_TESTS} testEmptyString/testBlankString/testSingleChar",
            t,
            "sentence",
            100,
            o,
            chunks=[t],
        )
        for t in ["", "   ", "   b", "b", ". ", " , ", " ,"]
        for o in (0, 1)
    ],
]

# RecursiveChunkerTests: TEST_SENTENCE joined by separators
TEST_SENTENCE = "This is a test sentence that has ten total words. "


def recursive_text(splitters: list[str]) -> str:
    """``generateTestText(numSentences, splittersAfterSentences)``."""
    parts = [TEST_SENTENCE]
    for splitter in splitters:
        parts += [splitter, TEST_SENTENCE]
    return "".join(parts)


_S = len(TEST_SENTENCE)
_SEPS = ("\n", "\f", "\t")
RECURSIVE_CASES: list[ChunkCase] = [
    ChunkCase(
        "recursive: empty input",
        f"{RECURSIVE_TESTS} testChunkEmptyInput",
        "",
        "recursive",
        30,
        separators=_SEPS,
        offsets=[(0, 0)],
    ),
    ChunkCase(
        "recursive: one char",
        f"{RECURSIVE_TESTS} testChunkSingleCharacterInput",
        "x",
        "recursive",
        30,
        separators=_SEPS,
        offsets=[(0, 1)],
    ),
    ChunkCase(
        "recursive: shorter than max",
        f"{RECURSIVE_TESTS} testChunkInputShorterThanMaxChunkSize",
        "a" * 29,
        "recursive",
        30,
        separators=_SEPS,
        offsets=[(0, 29)],
    ),
    ChunkCase(
        "recursive: one split, no merge",
        f"{RECURSIVE_TESTS} testChunkInputRequiresOneSplitWithoutMerges",
        recursive_text(["\n"]),
        "recursive",
        10,
        separators=_SEPS,
        offsets=[(0, _S), (_S, 2 * _S + 1)],
    ),
    ChunkCase(
        "recursive: one split with merges",
        f"{RECURSIVE_TESTS} testChunkInputRequiresOneSplitWithMerges",
        recursive_text(["\n", "\n"]),
        "recursive",
        20,
        separators=_SEPS,
        offsets=[(0, 2 * _S + 1), (2 * _S + 1, 3 * _S + 2)],
    ),
    ChunkCase(
        "recursive: several splits, no merge",
        f"{RECURSIVE_TESTS} testChunkInputRequiresMultipleSplitsWithoutMerges",
        recursive_text(["\f", "\n", "\f"]),
        "recursive",
        15,
        separators=_SEPS,
        offsets=[(0, _S), (_S, 2 * _S + 1), (2 * _S + 1, 3 * _S + 2), (3 * _S + 2, 4 * _S + 3)],
    ),
    ChunkCase(
        "recursive: several splits with merges",
        f"{RECURSIVE_TESTS} testChunkInputRequiresMultipleSplitsWithMerges",
        recursive_text(["\f", "\n", "\f"]),
        "recursive",
        25,
        separators=_SEPS,
        offsets=[(0, 2 * _S + 1), (2 * _S + 1, 4 * _S + 3)],
    ),
    ChunkCase(
        "recursive: stops splitting once chunks fit",
        f"{RECURSIVE_TESTS} testChunkInputDoesNotSplitWhenNoLongerExceedingMaxChunkSize",
        recursive_text(["\f", "\n", "\t", "\f"]),
        "recursive",
        25,
        separators=_SEPS,
        offsets=[(0, 2 * _S + 1), (2 * _S + 1, 4 * _S + 3), (4 * _S + 3, 5 * _S + 4)],
    ),
    ChunkCase(
        "recursive: backup sentence chunker",
        f"{RECURSIVE_TESTS} testChunkInputRequiresBackupChunkingStrategy",
        recursive_text(["", "\n", ""]),
        "recursive",
        10,
        separators=_SEPS,
        offsets=[(0, _S), (_S, 2 * _S), (2 * _S, 3 * _S + 1), (3 * _S + 1, 4 * _S + 1)],
    ),
    ChunkCase(
        "recursive: regex separators",
        f"{RECURSIVE_TESTS} testChunkWithRegexSeparator",
        recursive_text(["\n", "\n", "\n\n"]),
        "recursive",
        10,
        separators=("(?<!\\n)\\n(?!\\n)", "(?<!\\n)\\n\\n(?!\\n)"),
        offsets=[(0, _S), (_S, 2 * _S + 1), (2 * _S + 1, 3 * _S + 2), (3 * _S + 2, 4 * _S + 4)],
    ),
    ChunkCase(
        "recursive: many non-matching separators",
        f"{RECURSIVE_TESTS} testChunkWithManyNonMatchingSeparators",
        recursive_text([""]),
        "recursive",
        10,
        separators=tuple(f"NON_MATCHING_SEPARATOR_{i}" for i in range(50)),
        offsets=[(0, _S), (_S, 2 * _S)],
    ),
    ChunkCase(
        "recursive: order kept across depths",
        f"{RECURSIVE_TESTS} testChunkOrderingIsPreservedWhenChunksResolveAtDifferentDepths",
        recursive_text(["\t", "\n"]),
        "recursive",
        10,
        separators=(
            *(f"NON_MATCHING_A_{i}" for i in range(10)),
            "\n",
            *(f"NON_MATCHING_B_{i}" for i in range(10)),
            "\t",
            *(f"NON_MATCHING_C_{i}" for i in range(10)),
        ),
        offsets=[(0, _S), (_S, 2 * _S + 1), (2 * _S + 1, 3 * _S + 2)],
    ),
]

# ----------------------------------------------------------------- MemoryIndexChunkScorer

SCORER_CHUNKS = [
    "Cats like to sleep all day and play with mice",
    "Dogs are loyal companions and great pets",
    "The weather today is very sunny and warm",
    "Dogs love to play with toys and go for walks",
    "Elasticsearch is a great search engine",
]


@dataclass(frozen=True)
class ScorerCase:
    name: str
    source: str
    chunks: list[str] | None
    query: str
    max_results: int
    backfill: bool
    order: list[int]  # chunk indices, best first
    zero_scores: bool = False


SCORER_CASES = [
    ScorerCase(
        "dogs play walk",
        f"{SCORER_TESTS} testScoreChunks",
        SCORER_CHUNKS,
        "dogs play walk",
        3,
        True,
        [3, 1, 0],
    ),
    ScorerCase(
        "no match backfills",
        f"{SCORER_TESTS} testEmptyChunks",
        SCORER_CHUNKS,
        "puggles",
        3,
        True,
        [0, 1, 2],
        zero_scores=True,
    ),
    ScorerCase(
        "no match, no backfill",
        f"{SCORER_TESTS} testEmptyChunks",
        SCORER_CHUNKS,
        "puggles",
        3,
        False,
        [],
    ),
    ScorerCase("no chunks", f"{SCORER_TESTS} testEmptyChunks", [], "puggles", 3, True, []),
    ScorerCase("null chunks", f"{SCORER_TESTS} testEmptyChunks", None, "puggles", 3, True, []),
    ScorerCase("empty query", f"{SCORER_TESTS} testEmptyChunks", SCORER_CHUNKS, "", 3, True, []),
    ScorerCase("blank query", f"{SCORER_TESTS} testEmptyChunks", SCORER_CHUNKS, " ", 3, True, []),
]

# ----------------------------------------------------------------- coordinator


@dataclass(frozen=True)
class AggregationCase:
    """Reranker results ``(index, raw score)`` in the order the service returned them,
    chunks per document, and ES's per-document raw scores."""

    name: str
    source: str
    ranked: list[tuple[int, float]]
    chunks_per_doc: list[int]
    expected: list[float]


AGGREGATION_CASES = [
    AggregationCase(
        "one chunk per document",
        f"{COORDINATOR_TESTS} testExtractScoresFromSingleChunk",
        [(0, 1.0), (1, 2.5), (2, 1.5)],
        [1, 1, 1],
        [1.0, 2.5, 1.5],
    ),
    AggregationCase(
        "best chunk wins",
        f"{COORDINATOR_TESTS} testExtractScoresFromMultipleChunks",
        [(0, 1.0), (1, 2.5), (2, 1.5), (3, 3.0), (4, 2.0), (5, 1.5)],
        [2, 2, 2],
        [2.5, 3.0, 2.0],
    ),
    AggregationCase(
        "results sorted by score, mapped by index",
        "x-pack/plugin/inference/qa/test-service-plugin/.../TestRerankingServiceExtension.java "
        "(results come back best first, not in input order)",
        [(3, 0.9), (0, 0.7), (2, 0.5), (1, 0.3)],
        [1, 2, 1],
        [0.7, 0.5, 0.9],
    ),
]

# ----------------------------------------------------------------- YAML REST tests

# setup of 70_text_similarity_rank_retriever.yml: the `text` field of the three documents
YAML_DOCS = {
    "doc_2": "The phases of the Moon come from the position of the Moon relative to the Earth and Sun.",
    "doc_3": "Sun Moon Lake is a lake in Nantou County, Taiwan. It is the largest lake in Taiwan.",
    "doc_1": "As seen from Earth, a solar eclipse happens when the Moon is directly between the Earth and the Sun.",
}


@dataclass(frozen=True)
class EndToEndCase:
    """A YAML test replayed through the core: the child's hits (ids, in order), the
    chunk_rescorer body, ``inference_text``, and the ids ES returns. The test reranking
    service scores a non-numeric input by its position: later inputs score higher."""

    name: str
    source: str
    child_ids: list[str]
    rescorer: dict[str, Any]
    inference_text: str
    expected_ids: list[str]
    expected_inputs: list[str] = field(default_factory=list)


YAML_CASES = [
    EndToEndCase(
        "rescore chunks, size 2",
        f"{YAML_TESTS} (Reranking based on rescore_chunks)",
        ["doc_2", "doc_1"],
        {"size": 2},
        "How often does the moon hide the sun?",
        ["doc_1", "doc_2"],
        [YAML_DOCS["doc_2"], YAML_DOCS["doc_1"]],
    ),
    EndToEndCase(
        "rescore chunks, defaults",
        f"{YAML_TESTS} (Reranking based on rescore_chunks using defaults)",
        ["doc_2", "doc_1"],
        {},
        "How often does the moon hide the sun?",
        ["doc_1", "doc_2"],
        [YAML_DOCS["doc_2"], YAML_DOCS["doc_1"]],
    ),
    EndToEndCase(
        "no text match sends the first chunk",
        f"{YAML_TESTS} (will send in first chunk if no text matches found)",
        ["doc_2", "doc_1"],
        {},
        "iamanonsensefieldthatshouldreturnnoresults",
        ["doc_1", "doc_2"],
        [YAML_DOCS["doc_2"], YAML_DOCS["doc_1"]],
    ),
    EndToEndCase(
        "sentence chunks of 20 words",
        f"{YAML_TESTS} (specifying chunking settings), on the text field",
        ["doc_2", "doc_1"],
        {
            "chunking_settings": {
                "strategy": "sentence",
                "max_chunk_size": 20,
                "sentence_overlap": 0,
            }
        },
        "how often does the moon hide the sun?",
        ["doc_1", "doc_2"],
        [YAML_DOCS["doc_2"], YAML_DOCS["doc_1"]],
    ),
]
