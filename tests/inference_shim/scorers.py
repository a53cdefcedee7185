"""Deterministic scorer functions the shim serves in tests via --scorer."""

from __future__ import annotations

import time


def overlap(query: str, texts: list[str]) -> list[float]:
    """Query words found in each text, minus a small length penalty (distinct scores)."""
    words = set(query.lower().split())
    return [len(words & set(t.lower().split())) - len(t) / 1000.0 for t in texts]


def slow(query: str, texts: list[str]) -> list[float]:
    """``overlap`` after 2 seconds: keeps a request in flight."""
    time.sleep(2.0)
    return overlap(query, texts)


def wrong_length(query: str, texts: list[str]) -> list[float]:
    return [1.0]


def crash(query: str, texts: list[str]) -> list[float]:
    raise RuntimeError("scorer failed on purpose")
