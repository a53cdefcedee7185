"""Lucene's BM25, in float32 as Lucene computes it (apache/lucene
``lucene/core/src/java/org/apache/lucene/search/similarities/BM25Similarity.java``):
``weight - weight / (1 + freq / (k1 * (1 - b + b * dl / avgdl)))`` with ``weight = idf`` and
``idf = ln(1 + (docCount - df + 0.5) / (df + 0.5))``; no ``(k1 + 1)`` numerator since
Lucene 8.0 (LUCENE-8563), unlike tantivy's.

>>> round(bm25(idf(1, 10), freq=1.0, dl=2, avgdl=2.0), 6)  # ln(1 + 9.5 / 1.5) / (1 + 1.2)
0.90565
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["K1_PLUS_1", "bm25", "idf", "norm_length"]

K1, B = np.float32(1.2), np.float32(0.75)
#: tantivy's BM25 numerator, which Lucene no longer has.
K1_PLUS_1 = 2.2


def idf(doc_freq: int, doc_count: int) -> float:
    """BM25's idf (``doc_count``: tantivy counts every document, Lucene those with the field)."""
    return math.log(1.0 + (doc_count - doc_freq + 0.5) / (doc_freq + 0.5))


def bm25(idf_sum: float, *, freq: float, dl: float, avgdl: float) -> float:
    """Lucene's score of a term (or phrase: ``idf_sum`` of its words) at ``freq``."""
    weight = np.float32(idf_sum)
    norm_inverse = np.float32(1) / (K1 * ((1 - B) + B * np.float32(dl) / np.float32(avgdl)))
    return float(weight - weight / (np.float32(1) + np.float32(freq) * norm_inverse))


def _long_to_int4(i: int) -> int:
    bits = i.bit_length()
    if bits < 4:
        return i
    shift = bits - 4
    return ((i >> shift) & 0x07) | ((shift + 1) << 3)


def _int4_to_long(i: int) -> int:
    bits, shift = i & 0x07, (i >> 3) - 1
    return bits if shift == -1 else (bits | 0x08) << shift


_FREE_VALUES = 255 - _long_to_int4(2**31 - 1)  # 24


def norm_length(tokens: int) -> int:
    """A field length as its one-byte norm keeps it (Lucene's ``SmallFloat.intToByte4``
    then ``byte4ToInt``; tantivy's fieldnorms use the same table): exact up to 40.

    >>> [norm_length(n) for n in (3, 40, 41, 100, 1000)]
    [3, 40, 40, 96, 984]
    """
    if tokens < _FREE_VALUES:
        return tokens
    code = _long_to_int4(tokens - _FREE_VALUES)
    return _FREE_VALUES + _int4_to_long(code)
