"""Sloppy phrases (``match_phrase`` with ``slop``) matched and scored as Lucene does.

tantivy counts every match within the slop as 1 and keeps the phrase's words in order;
Lucene's ``SloppyPhraseMatcher`` (apache/lucene ``lucene/core/src/java/org/apache/lucene/
search/SloppyPhraseMatcher.java``) lets words move (``"dog fox"~2`` matches "fox dog"),
and a match of length d adds ``1 / (1 + d)`` to the phrase frequency that BM25 scores. So
for a sloppy phrase the candidates (documents with every word) are re-analysed here, the
frequency computed as Lucene computes it, and each matching document scored with BM25 at
that frequency; the query is then their union, each document at its own constant score.

>>> sloppy_freq([[0], [1]], slop=0)  # "a b" in "a b"
1.0
>>> round(sloppy_freq([[1], [0]], slop=2), 6)  # "a b" in "b a": two moves, 1 / (1 + 2)
0.333333
>>> sloppy_freq([[0], [3]], slop=1)  # too far apart
0.0
"""

from __future__ import annotations

import heapq
import json
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import tantivy

from es_rerank.backends.local_bm25 import bm25, norm_length
from es_rerank.backends.local_mapping import _ID, FieldSpec, LocalMapping, stored_source

__all__ = ["POSITION_INCREMENT_GAP", "sloppy_freq", "sloppy_phrase_query"]

#: ES's ``position_increment_gap`` for text fields: positions between array values.
POSITION_INCREMENT_GAP = 100


class _PP:
    """Lucene's PhrasePositions: one phrase word's positions, shifted by its offset."""

    __slots__ = ("index", "offset", "positions")

    def __init__(self, positions: Sequence[int], offset: int) -> None:
        self.positions, self.offset, self.index = positions, offset, 0

    @property
    def position(self) -> int:
        return self.positions[self.index] - self.offset

    def key(self) -> tuple[int, int]:
        return (self.position, self.offset)  # PhraseQueue.lessThan


def sloppy_freq(term_positions: Sequence[Sequence[int]], slop: int) -> float:
    """The sloppy frequency of a phrase of distinct words: ``term_positions[i]`` are the
    sorted positions of word ``i`` in the document; 0.0 when it does not match."""
    if any(not p for p in term_positions):
        return 0.0
    pps = [_PP(p, i) for i, p in enumerate(term_positions)]
    heap = [(pp.key(), i) for i, pp in enumerate(pps)]
    heapq.heapify(heap)
    end = max(pp.position for pp in pps)
    freq = 0.0
    while True:  # one nextMatch() per turn
        _, i = heapq.heappop(heap)
        pp = pps[i]
        match_length = end - pp.position
        nxt = heap[0][0][0]
        matched = False
        while pp.index + 1 < len(pp.positions):  # advancePP
            pp.index += 1
            end = max(end, pp.position)
            if pp.position > nxt:
                heapq.heappush(heap, (pp.key(), i))
                if match_length <= slop:
                    freq += float(np.float32(1) / (np.float32(1) + np.float32(match_length)))
                    matched = True
                    break
                _, i = heapq.heappop(heap)
                pp = pps[i]
                nxt = heap[0][0][0]
                match_length = end - pp.position
            else:
                match_length = min(match_length, end - pp.position)
        if not matched:
            if match_length <= slop:
                freq += float(np.float32(1) / (np.float32(1) + np.float32(match_length)))
            return freq


def _positions(
    items: Sequence[Any], words: Sequence[str], analyzer: tantivy.TextAnalyzer
) -> tuple[list[list[int]], int]:
    """Each word's positions in a field's values, separated as ES separates them, and the
    field's length in tokens."""
    found: dict[str, list[int]] = {w: [] for w in words}
    start = length = 0
    for item in items:
        if item is None or isinstance(item, (dict, list)):
            continue
        tokens = analyzer.analyze(
            "true" if item is True else "false" if item is False else str(item)
        )
        for pos, token in enumerate(tokens):
            if token in found:
                found[token].append(start + pos)
        if tokens:
            start += len(tokens) + POSITION_INCREMENT_GAP
            length += len(tokens)
    return [found[w] for w in words], length


def _norm_stats(explanation: Mapping[str, Any]) -> tuple[float, float]:  # (dl, avgdl)
    """``dl`` and ``avgdl`` from a tantivy BM25 explanation."""
    found: dict[str, float] = {}
    stack = [explanation]
    while stack:
        node = stack.pop()
        desc = str(node.get("description", ""))
        for key in ("dl", "avgdl"):
            if desc.startswith(f"{key},"):
                found[key] = float(node["value"])
        stack.extend(node.get("details", []))
    return found["dl"], found["avgdl"]


def sloppy_phrase_query(
    searcher: tantivy.Searcher,
    schema: tantivy.Schema,
    mapping: LocalMapping,
    spec: FieldSpec,
    words: Sequence[str],
    slop: int,
    analyzer: tantivy.TextAnalyzer,
    idf: float,
) -> tantivy.Query:
    """The documents ``words`` match within ``slop``, each scoring Lucene's BM25 with
    phrase idf ``idf`` (the sum of the words' Lucene idfs) at its sloppy frequency."""
    terms = [tantivy.Query.term_query(schema, spec.name, w, index_option="freq") for w in words]
    candidates = tantivy.Query.boolean_query([(tantivy.Occur.Must, t) for t in terms])
    found = searcher.search(candidates, limit=max(int(searcher.num_docs), 1)).hits
    scored = []
    avgdl: float | None = None
    for _, addr in found:
        doc = searcher.doc(addr)
        values = mapping.values(spec, stored_source(doc))
        positions, length = _positions(values, words, analyzer)
        freq = sloppy_freq(positions, slop)
        if freq <= 0:
            continue
        if avgdl is None:  # tantivy's, the same for every document of the query
            avgdl = _norm_stats(json.loads(terms[0].explain(searcher, addr).to_json()))[1]
        score = bm25(idf, freq=freq, dl=norm_length(length), avgdl=avgdl)
        doc_id = tantivy.Query.term_query(schema, _ID, str(doc.get_first(_ID)))
        scored.append((tantivy.Occur.Should, tantivy.Query.const_score_query(doc_id, score)))
    if not scored:
        return tantivy.Query.empty_query()
    return tantivy.Query.boolean_query(scored)
