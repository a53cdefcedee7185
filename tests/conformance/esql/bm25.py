"""Lucene's BM25 (``BM25Similarity``: k1=1.2, b=0.75, float arithmetic, lengths through the
one-byte ``SmallFloat`` norm) over one shard, with an approximation of the standard
analyzer (UAX#29 word breaks, lower-cased). Enough to run the ``WHERE MATCH`` parts of ES's
``rerank.csv-spec`` locally; see README.md for why ES's own ``_score`` values differ."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from es_rerank.backends.local_bm25 import bm25, idf, norm_length

_MID_LETTER = frozenset(":.'\u2019\u00b7")
_MID_NUM = frozenset(",;.'\u2019")
F = np.float32


def tokenize(text: str) -> list[str]:
    """Word tokens: letters/digits joined by a mid-word mark between two letters
    (``J.R.R``, ``tolkien's``) or two digits (``1,700``), lower-cased."""
    out: list[str] = []
    current = ""
    for i, ch in enumerate(text):
        if ch.isalnum() or ch == "_":
            current += ch
            continue
        nxt = text[i + 1] if i + 1 < len(text) else ""
        prev = current[-1] if current else ""
        if (prev and nxt and ch in _MID_LETTER and prev.isalpha() and nxt.isalpha()) or (
            prev and nxt and ch in _MID_NUM and prev.isdigit() and nxt.isdigit()
        ):
            current += ch
        elif current:
            out.append(current)
            current = ""
    if current:
        out.append(current)
    return [t.lower() for t in out]


class Bm25Field:
    """One field's postings over all documents (a document's values are one field)."""

    def __init__(self, docs: Sequence[Sequence[str]]) -> None:
        self.tokens = [tokenize(" ".join(values)) for values in docs]
        self.count = len(self.tokens)
        self.avgdl = F(sum(len(t) for t in self.tokens) / max(self.count, 1))

    def score(self, query: str, *, all_terms: bool = False) -> list[float | None]:
        """Each document's score for ``query`` (OR of its terms, or AND with
        ``all_terms``), None where it does not match."""
        terms = tokenize(query)
        scores: list[float | None] = [None] * self.count
        matched = [0] * self.count
        for term in dict.fromkeys(terms):
            df = sum(1 for t in self.tokens if term in t)
            if df == 0:
                continue
            weight = idf(df, self.count)
            for i, tokens in enumerate(self.tokens):
                tf = tokens.count(term)
                if tf == 0:
                    continue
                dl = norm_length(len(tokens))
                part = bm25(weight, freq=tf, dl=dl, avgdl=float(self.avgdl))
                scores[i] = (scores[i] or 0.0) + part
                matched[i] += 1
        if all_terms:
            distinct = len(set(terms))
            scores = [s if m == distinct else None for s, m in zip(scores, matched, strict=True)]
        return scores
