"""Score lists: the body of the shim's ``/scores/normalize`` and ``/scores/denormalize``.

>>> ScoreList.model_validate({"scores": [-1, 2.5]}).scores
[-1.0, 2.5]
>>> NormalizedScoreList.model_validate({"scores": [0.0]})
Traceback (most recent call last):
...
pydantic_core._pydantic_core.ValidationError: 1 validation error for NormalizedScoreList
scores.0
  Input should be greater than 0 ...
"""

from __future__ import annotations

from es_rerank.wire.base import WireModel
from es_rerank.wire.fields import FiniteFloat, PositiveFloat

__all__ = ["NormalizedScoreList", "ScoreList"]


class ScoreList(WireModel):
    """Finite numbers."""

    scores: list[FiniteFloat]


class NormalizedScoreList(WireModel):
    """Elasticsearch-normalized scores: finite and above zero."""

    scores: list[PositiveFloat]
