"""``es-rerank eval --first-stages`` scores each (query, text) pair once across its stages:
the stages' windows overlap, and a cross-encoder's score of a pair does not depend on what
else shares its batch."""

from __future__ import annotations

from collections.abc import Sequence

from es_rerank.evaluation.first_stages import _PairScores


class _Recording:
    def __init__(self) -> None:
        self.calls: list[tuple[str, list[str]]] = []

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        self.calls.append((query, list(texts)))
        return [float(len(query) * 100 + len(t)) for t in texts]


def test_each_pair_is_scored_once_and_answers_keep_their_order() -> None:
    inner = _Recording()
    scores = _PairScores(inner)
    assert scores.rerank("q", ["aa", "b", "aa"]) == [102.0, 101.0, 102.0]
    assert scores.rerank("q", ["ccc", "b"]) == [103.0, 101.0]
    assert scores.rerank("qq", ["b"]) == [201.0]  # another query: scored anew
    assert scores.rerank("q", ["b", "aa"]) == [101.0, 102.0]  # nothing left to score
    assert inner.calls == [("q", ["aa", "b"]), ("q", ["ccc"]), ("qq", ["b"])]
