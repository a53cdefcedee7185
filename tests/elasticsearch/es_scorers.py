"""Deterministic scorers the shim serves to a real cluster (``--scorer``), so ES's answers
can be compared with the function's own numbers."""

from __future__ import annotations


def word_overlap(query: str, texts: list[str]) -> list[float]:
    """Shared lower-cased words minus a small length penalty: distinct, signed raw scores."""
    words = set(query.lower().split())
    return [len(words & set(t.lower().split())) - 0.5 - len(t) / 1000.0 for t in texts]
