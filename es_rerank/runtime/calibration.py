"""The calibration set shipped with the package: 40 queries written for passages cut from
CPython's ``pydoc_data.topics``, 8 passages each (5 close BM25 matches, 3 random), 320
pairs in all. ``--runtime auto`` checks agreement and speed on it; OpenVINO int8 is
calibrated on it. Regenerate with ``bench/make_calibration.py``.

>>> pairs = calibration_pairs()
>>> len(pairs), sum(len(texts) for _, texts in pairs)
(40, 320)
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = ["calibration_pairs"]


@functools.cache
def calibration_pairs() -> tuple[tuple[str, tuple[str, ...]], ...]:
    """``(query, passages)`` groups, in file order."""
    text = resources.files("es_rerank.runtime").joinpath("calibration.jsonl").read_text("utf-8")
    rows = [json.loads(line) for line in text.splitlines() if line.strip()]
    return tuple((r["query"], tuple(r["passages"])) for r in rows)
