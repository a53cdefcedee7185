"""How closely two sets of scores for the same grouped pairs agree: Spearman's rank
correlation over all pairs, the largest absolute difference, and the largest move of any
item within its group's ranking.

>>> a = Agreement.of([1.0, 2.0, 3.0, 0.5], [1.1, 2.0, 2.9, 0.4], groups=[2, 2])
>>> round(a.spearman, 3), round(a.max_abs_diff, 3), a.max_displacement
(1.0, 0.1, 0)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

__all__ = ["Agreement"]


def _ranks(values: np.ndarray) -> np.ndarray:
    """Position of each item when sorted best first (ties keep input order)."""
    order = np.argsort(-values, kind="stable")
    ranks = np.empty(len(values), dtype=np.int64)
    ranks[order] = np.arange(len(values))
    return ranks


@dataclass(frozen=True)
class Agreement:
    spearman: float
    max_abs_diff: float
    max_displacement: int

    @classmethod
    def of(
        cls, reference: Sequence[float], candidate: Sequence[float], *, groups: Sequence[int]
    ) -> Agreement:
        """``groups`` are the sizes of consecutive groups (one query's passages each)."""
        from scipy.stats import spearmanr

        ref = np.asarray(reference, dtype=np.float64)
        got = np.asarray(candidate, dtype=np.float64)
        if ref.shape != got.shape or sum(groups) != len(ref):
            raise ValueError("reference, candidate and groups must cover the same pairs")
        rho = float(spearmanr(ref, got).statistic) if len(ref) > 1 else 1.0
        moved = 0
        start = 0
        for n in groups:
            r, g = ref[start : start + n], got[start : start + n]
            moved = max(moved, int(np.abs(_ranks(r) - _ranks(g)).max(initial=0)))
            start += n
        diff = float(np.abs(ref - got).max(initial=0.0))
        return cls(
            spearman=rho if np.isfinite(rho) else 0.0, max_abs_diff=diff, max_displacement=moved
        )

    def acceptable(self, *, min_spearman: float, max_displacement: int) -> bool:
        return self.spearman >= min_spearman and self.max_displacement <= max_displacement
