"""Score modes: what the shim returns for a raw model score.

``raw`` is the model's logit (cosine for a bi-encoder), ``sigmoid`` maps it into (0, 1)
(TEI's default when ``raw_scores`` is false), ``normalized`` is Elasticsearch's
``max(s, 0) + min(exp(s), 1)``, i.e. the score ES itself shows for a raw score.

>>> apply_mode([0.0, 2.0], "sigmoid")
[0.5, 0.8807970779778823]
>>> apply_mode([-1.0, 2.0], "normalized")
[0.36787944117144233, 3.0]
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import cast

from es_rerank.scores import normalize
from es_rerank.wire.fields import SCORE_MODES, ScoreMode

__all__ = ["SCORE_MODES", "ScoreMode", "apply_mode", "parse_mode"]


def _sigmoid(s: float) -> float:
    # Split by sign so exp never overflows.
    if s >= 0:
        return 1.0 / (1.0 + math.exp(-s))
    e = math.exp(s)
    return e / (1.0 + e)


def apply_mode(scores: Sequence[float], mode: ScoreMode) -> list[float]:
    """Map raw scores to ``mode``; returns plain floats."""
    raw = [float(s) for s in scores]
    if mode == "raw":
        return raw
    if mode == "sigmoid":
        return [_sigmoid(s) for s in raw]
    return normalize(raw)


def parse_mode(value: object, *, name: str = "score_mode") -> ScoreMode:
    """Validate a score mode; raises ValueError naming the parameter."""
    if not isinstance(value, str) or value not in SCORE_MODES:
        raise ValueError(f"{name} must be one of {', '.join(SCORE_MODES)}, got {value!r}")
    return cast("ScoreMode", value)
