"""Elasticsearch's rules for combining and rescoring rankings, as pure functions: the
``linear`` retriever's normalizers and weighted sum, the ``pinned`` query's scores and the
``query`` rescorer's score modes. The external executor (:mod:`es_rerank.external`)
applies them; ``rrf`` lives in :mod:`es_rerank.rules`.

Sources (elastic/elasticsearch): ``x-pack/plugin/rank-rrf/.../linear/MinMaxScoreNormalizer``
(a7776012, after PR #128689, in 9.0+ and 8.18/8.19), ``L2ScoreNormalizer`` (2ddd3e9b),
``LinearRetrieverBuilder`` (773c33ae),
``x-pack/plugin/search-business-rules/.../PinnedQueryBuilder``.

>>> normalize_scores("minmax", [4.0, 2.0, 1.0])
[1.0, 0.3333333333333333, 0.0]
>>> normalize_scores("l2_norm", [3.0, 4.0])
[0.6, 0.8]
>>> rescore_combine(2.0, 3.0, mode="total", query_weight=0.5, rescore_query_weight=2.0)
7.0
"""

from __future__ import annotations

import math
import struct
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np

from es_rerank.hits import Hit

__all__ = [
    "MAX_ORGANIC_SCORE",
    "SCORE_MODES",
    "linear_combine",
    "normalize_scores",
    "pin_scores",
    "rank_order",
    "rescore_combine",
    "tied_ids",
]

#: Java's ``Float.MIN_VALUE`` and ``Float.MAX_VALUE``
_FLOAT_MIN = 1.4e-45
_FLOAT_MAX = 3.4028234663852886e38
_EPSILON = 1e-6
#: ``PinnedQueryBuilder.MAX_ORGANIC_SCORE``: ``Float.intBitsToFloat(0xfe << 23) - 1`` (2**127)
MAX_ORGANIC_SCORE = struct.unpack(">f", struct.pack(">I", 0xFE << 23))[0] - 1
#: The ``query`` rescorer's ``score_mode`` values
SCORE_MODES = ("total", "multiply", "avg", "max", "min")


def _valid(score: float) -> bool:
    return not math.isnan(score)


def normalize_scores(normalizer: str, scores: Sequence[float]) -> list[float]:
    """One child's scores under ``normalizer`` (``none``, ``minmax``, ``l2_norm``), as ES
    computes them: ``minmax`` gives every document 1.0 when min and max are within 1e-6 (one
    hit, or equal scores: ES's fix of single-doc result sets, elastic/elasticsearch PR
    #128689, which kept the score before) and starts its max at ``Float.MIN_VALUE``;
    ``l2_norm`` leaves scores whose norm is below 1e-6 as they are; all-NaN scores are left
    as they are.

    >>> normalize_scores("minmax", [2.0, 2.0]), normalize_scores("l2_norm", [0.0, 0.0])
    ([1.0, 1.0], [0.0, 0.0])
    """
    values = list(scores)
    if normalizer == "none" or not values or not any(_valid(s) for s in values):
        return values
    if normalizer == "minmax":
        low, high = _FLOAT_MAX, _FLOAT_MIN
        for s in values:
            high = max(high, s) if _valid(s) else high
            low = min(low, s) if _valid(s) else low
        if abs(low - high) < _EPSILON:
            return [1.0] * len(values)
        return [(s - low) / (high - low) for s in values]
    if normalizer == "l2_norm":
        norm = math.sqrt(sum(s * s for s in values if _valid(s)))
        if norm < _EPSILON:
            return values
        return [s / norm for s in values]
    raise ValueError(f"Unknown normalizer [{normalizer}]")


def rank_order(scores: Mapping[str, float], order: Mapping[str, int] | None = None) -> list[str]:
    """The ids of ``scores`` best first; equal scores in ``order`` (the documents' index
    order: Lucene breaks ties by doc id), else in first-seen order.

    >>> rank_order({"a": 1.0, "b": 2.0, "c": 1.0}), rank_order({"a": 1.0, "c": 1.0}, {"c": 0})
    (['b', 'a', 'c'], ['c', 'a'])
    """
    seen = {hid: i for i, hid in enumerate(scores)}
    known = {} if order is None else order
    return sorted(scores, key=lambda hid: (-scores[hid], known.get(hid, len(seen)), seen[hid]))


def tied_ids(hits: Sequence[Hit]) -> list[str]:
    """The ids of hits that share their score with another hit (ties to break).

    >>> tied_ids([Hit("a", 1.0), Hit("b", 2.0), Hit("c", 1.0)])
    ['a', 'c']
    """
    counts = Counter(h.score for h in hits)
    return [h.id for h in hits if counts[h.score] > 1]


def linear_combine(
    rankings: Sequence[Sequence[Hit]],
    *,
    weights: Sequence[float],
    normalizers: Sequence[str],
    limit: int | None,
    final_normalizer: str | None = None,
    order: Mapping[str, int] | None = None,
) -> list[Hit]:
    """``linear``: each document's ``sum(weight_i * normalizer_i(score_i))`` over the
    rankings it is in (a NaN score counts 0), then ``final_normalizer`` (the top-level
    ``normalizer``, ES 9.2+) over those sums, summed in float32 as ES does; best first,
    ties in ``order`` (index order, as ES breaks them by Lucene doc id) else first-seen,
    the first ``limit``.

    >>> a, b = Hit("a", 3.0), Hit("b", 1.0)
    >>> [(h.id, h.score) for h in linear_combine([[a, b], [b]], weights=[1.0, 2.0],
    ...                                         normalizers=["minmax", "none"], limit=10)]
    [('b', 2.0), ('a', 1.0)]
    """
    scores: dict[str, float] = {}
    first: dict[str, Hit] = {}
    for ranking, weight, normalizer in zip(rankings, weights, normalizers, strict=True):
        normalized = normalize_scores(normalizer, [h.score for h in ranking])
        for hit, score in zip(ranking, normalized, strict=True):
            contribution = np.float32(weight) * np.float32(score if _valid(score) else 0.0)
            scores[hit.id] = float(np.float32(scores.get(hit.id, 0.0)) + contribution)
            first.setdefault(hit.id, hit)
    if final_normalizer is not None:
        scores = dict(
            zip(scores, normalize_scores(final_normalizer, list(scores.values())), strict=True)
        )
    ids = rank_order(scores, order)[:limit]
    return [Hit(hid, scores[hid], first[hid].source) for hid in ids]


def pin_scores(count: int) -> list[float]:
    """The scores ES's ``pinned`` query gives ``count`` pinned documents, in pin order:
    the floats just above ``MAX_ORGANIC_SCORE``, descending (``PinnedQueryBuilder``).

    >>> pins = pin_scores(2)
    >>> pins[0] > pins[1] > MAX_ORGANIC_SCORE
    True
    """
    (organic_bits,) = struct.unpack(">I", struct.pack(">f", MAX_ORGANIC_SCORE))
    first = organic_bits + 1 + count
    return [struct.unpack(">f", struct.pack(">I", first - k))[0] for k in range(count)]


def rescore_combine(
    primary: float,
    secondary: float | None,
    *,
    mode: str,
    query_weight: float,
    rescore_query_weight: float,
) -> float:
    """The ``query`` rescorer's score for one document of the window: with a
    ``rescore_query`` match, ``score_mode`` of ``primary * query_weight`` and
    ``secondary * rescore_query_weight``; without one, ``primary * query_weight``.

    >>> rescore_combine(2.0, None, mode="max", query_weight=1.5, rescore_query_weight=1.0)
    3.0
    """
    first = primary * query_weight
    if secondary is None:
        return first
    second = secondary * rescore_query_weight
    if mode == "total":
        return first + second
    if mode == "multiply":
        return first * second
    if mode == "avg":
        return (first + second) / 2
    if mode == "max":
        return max(first, second)
    if mode == "min":
        return min(first, second)
    raise ValueError(f"illegal score_mode [{mode}]")
