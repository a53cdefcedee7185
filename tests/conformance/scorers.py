"""Deterministic rerank rules shared by every executor. Each is a plain function
``rule(query, texts) -> scores`` so the inference shim can serve the very same rule to
Elasticsearch (``inference-shim serve --scorer tests.conformance.scorers:score_is_text``).
"""

from __future__ import annotations

import re

_NUMBER = re.compile(r"-?\d+(?:\.\d+)?")


def score_is_text(query: str, texts: list[str]) -> list[float]:
    """The raw score is the text read as a number: ``"2.5"`` scores 2.5."""
    return [float(t) for t in texts]


def later_scores_higher(query: str, texts: list[str]) -> list[float]:
    """The i-th input scores i: the reranker reverses the order it was given."""
    return [float(i) for i in range(len(texts))]


def always_fails(query: str, texts: list[str]) -> list[float]:
    """Every call fails, as an unreachable or overloaded endpoint would."""
    raise RuntimeError("the conformance scorer always_fails was called")


def one_score_short(query: str, texts: list[str]) -> list[float]:
    """Returns one score fewer than it was given texts."""
    return [0.0] * max(len(texts) - 1, 0)


def largest_number(query: str, texts: list[str]) -> list[float]:
    """The raw score is the largest number written in the text, 0 when it holds none: a
    long text scores by whichever part of it is sent (``chunk_rescorer``)."""
    return [max((float(n) for n in _NUMBER.findall(t)), default=0.0) for t in texts]


SCORERS = {
    f.__name__: f
    for f in (score_is_text, later_scores_higher, always_fails, one_score_short, largest_number)
}
