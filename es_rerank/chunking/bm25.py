"""``MemoryIndexChunkScorer``: pick a document's best chunks by Lucene BM25 against the query.

Elasticsearch indexes the chunks of one field value into a throw-away Lucene index (field
``content``, ``StandardAnalyzer``), turns ``inference_text`` into a ``SHOULD`` boolean query
with Lucene's ``QueryBuilder`` and keeps the ``TopDocs``. This module computes the same
numbers in float32, the way Lucene 10's ``BM25Similarity`` does (k1 1.2, b 0.75, document
lengths stored as one-byte ``SmallFloat`` norms, per-norm cache of ``1 / (k1 * (1 - b + b *
dl / avgdl))``, ``weight - weight / (1 + freq * cache[norm])``, clause scores summed in
double then rounded to float). Ties go to the earlier chunk (lower Lucene doc id).

>>> chunks = ["Dogs are loyal companions", "The weather is sunny", "Dogs love walks"]
>>> [(c.index, round(c.score, 4)) for c in score_chunks(chunks, "dogs walk", 3)]
[(2, 0.2308), (0, 0.206)]
>>> [(c.index, c.score) for c in score_chunks(chunks, "puggles", 2)]
[(0, 0.0), (1, 0.0)]
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import icu  # type: ignore[import-untyped]
import numpy as np

from es_rerank.chunking.breaks import WORD_NONE, word_boundaries

__all__ = ["MAX_CLAUSE_COUNT", "ScoredChunk", "analyze", "score_chunks"]

#: ``IndexSearcher.getMaxClauseCount()``: more distinct query terms is an error.
MAX_CLAUSE_COUNT = 1024
_MAX_TOKEN_LENGTH = 255  # StandardAnalyzer.DEFAULT_MAX_TOKEN_LENGTH

_K1 = np.float32(1.2)
_B = np.float32(0.75)

_HAN = icu.UnicodeSet("[:Script=Han:]")
_HIRAGANA = icu.UnicodeSet("[:Script=Hiragana:]")
_SOUTHEAST_ASIAN = icu.UnicodeSet("[:Line_Break=Complex_Context:]")
_EMOJI_START = icu.UnicodeSet("[[:Extended_Pictographic:][:Regional_Indicator:]]")
_KEYCAP = "\u20e3"

# --------------------------------------------------------------------- analysis


def _lower(token: str) -> str:
    # LowerCaseFilter: Character.toLowerCase per code point (no final sigma, no İ -> i̇)
    if token.isascii():
        return token.lower()
    out = []
    for ch in token:
        low = ch.lower()
        out.append(low if len(low) == 1 else "i" if ch == "\u0130" else ch)
    return "".join(out)


def _split_cjk(segment: str) -> list[str]:
    # StandardTokenizer emits each Han and each Hiragana character as its own token and
    # keeps runs of other kana together; ICU's dictionary gives whole words instead.
    tokens: list[str] = []
    run = ""
    for ch in segment:
        if _HAN.contains(ch) or _HIRAGANA.contains(ch):
            if run:
                tokens.append(run)
                run = ""
            tokens.append(ch)
        else:
            run += ch
    if run:
        tokens.append(run)
    return tokens


def _is_southeast_asian(segment: str) -> bool:
    return all(_SOUTHEAST_ASIAN.contains(ch) for ch in segment)


def _is_emoji(segment: str) -> bool:
    return _EMOJI_START.contains(segment[0]) or _KEYCAP in segment


def analyze(text: str) -> list[str]:
    """Lucene ``StandardAnalyzer`` (no stop words since Lucene 8): UAX#29 word tokens,
    lower-cased, at most 255 characters each.

    >>> analyze("Won't you see U.S.A. e-mail 3.5 😀 日本語")
    ["won't", 'you', 'see', 'u.s.a', 'e', 'mail', '3.5', '😀', '日', '本', '語']
    """
    words = word_boundaries(text)
    tokens: list[str] = []
    sea_end = -1  # end of the last Thai/Lao/Khmer/Myanmar token, to glue dictionary words
    positions, statuses = words.positions, words.statuses
    for k in range(1, len(positions)):
        start, end, status = positions[k - 1], positions[k], statuses[k]
        segment = text[start:end]
        if status == WORD_NONE:
            if segment and not segment.isspace() and _is_emoji(segment):
                tokens.append(segment)
            continue
        if status >= 300:  # ICU kana (300-399) and ideographic (400-499) words
            tokens.extend(_split_cjk(segment))
            continue
        if _is_southeast_asian(segment):
            # StandardTokenizer keeps a whole run of such script as one token
            if sea_end == start and tokens:
                tokens[-1] += segment
            else:
                tokens.append(segment)
            sea_end = end
            continue
        tokens.append(_lower(segment))
    out: list[str] = []
    for token in tokens:
        if len(token) <= _MAX_TOKEN_LENGTH:
            out.append(token)
        else:
            out.extend(
                token[i : i + _MAX_TOKEN_LENGTH] for i in range(0, len(token), _MAX_TOKEN_LENGTH)
            )
    return out


# --------------------------------------------------------------------- Lucene norms


def _long_to_int4(i: int) -> int:
    num_bits = i.bit_length()
    if num_bits < 4:
        return i  # subnormal
    shift = num_bits - 4
    encoded = (i >> shift) & 0x07  # the implicit leading bit is dropped
    return encoded | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits = i & 0x07
    shift = (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_NUM_FREE_VALUES = 255 - _long_to_int4(2**31 - 1)


def _int_to_byte4(i: int) -> int:
    """``SmallFloat.intToByte4``: lengths below 24 are exact, above that 4 significant bits."""
    if i < _NUM_FREE_VALUES:
        return i
    return _NUM_FREE_VALUES + _long_to_int4(i - _NUM_FREE_VALUES)


def _byte4_to_int(b: int) -> int:
    if b < _NUM_FREE_VALUES:
        return b
    return _NUM_FREE_VALUES + _int4_to_long(b - _NUM_FREE_VALUES)


_LENGTH_TABLE = np.array([_byte4_to_int(i) for i in range(256)], dtype=np.float32)


# --------------------------------------------------------------------- scoring


@dataclass(frozen=True)
class ScoredChunk:
    """One of ``MemoryIndexChunkScorer``'s results: chunk position, text and BM25 score
    (0.0 for chunks returned because nothing matched)."""

    index: int
    text: str
    score: float


def _is_blank(text: str) -> bool:
    # Java's String.trim() drops every char <= U+0020 and nothing else
    return not text.lstrip("".join(map(chr, range(0x21))))


def score_chunks(
    chunks: Sequence[str], query: str, max_results: int, *, backfill: bool = True
) -> list[ScoredChunk]:
    """``MemoryIndexChunkScorer.scoreChunks(chunks, inferenceText, maxResults, backfill)``.

    At most ``max_results`` chunks, best first. When no chunk shares a term with the query
    (or the query has no terms at all), the first ``max_results`` chunks come back in text
    order with score 0 (``backfill``). An empty chunk list or a blank query gives ``[]``.
    """
    if not chunks or _is_blank(query):
        return []
    limit = min(max_results, len(chunks))
    query_terms = Counter(analyze(query))  # repeated terms: one clause, boost = count
    if len(query_terms) > MAX_CLAUSE_COUNT:
        raise ValueError(
            f"inference_text has too many clauses: maxClauseCount is set to {MAX_CLAUSE_COUNT}"
        )
    postings: list[Counter[str]] = [Counter(analyze(c)) for c in chunks]
    lengths = [sum(p.values()) for p in postings]
    doc_count = sum(1 for n in lengths if n > 0)
    matches: dict[int, float] = {}
    if query_terms and doc_count:
        avgdl = np.float32(sum(lengths) / doc_count)
        one = np.float32(1.0)
        cache = one / (_K1 * ((one - _B) + _B * _LENGTH_TABLE / avgdl))
        for term, boost in query_terms.items():
            doc_freq = sum(1 for p in postings if term in p)
            if doc_freq == 0:
                continue
            idf = np.float32(math.log(1 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5)))
            weight = np.float32(boost) * idf
            for i, p in enumerate(postings):
                freq = p.get(term)
                if freq:
                    norm_inverse = cache[_int_to_byte4(lengths[i])]
                    score = weight - weight / (one + np.float32(freq) * norm_inverse)
                    matches[i] = matches.get(i, 0.0) + float(score)  # summed in double
    ranked = sorted(matches.items(), key=lambda item: (-float(np.float32(item[1])), item[0]))
    if ranked:
        return [ScoredChunk(i, chunks[i], float(np.float32(s))) for i, s in ranked[:limit]]
    if backfill:
        return [ScoredChunk(i, chunks[i], 0.0) for i in range(limit)]
    return []
