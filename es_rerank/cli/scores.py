"""``es-rerank normalize|denormalize``: convert scores between ES's raw and normalized units."""

from __future__ import annotations

import argparse
from typing import Any

from es_rerank.scores import denormalize, normalize


def register(sub: Any) -> None:
    for name, fn, what in (
        ("normalize", normalize, "raw reranker scores to the normalized scores ES returns"),
        ("denormalize", denormalize, "normalized scores back to raw (e.g. for min_score)"),
    ):
        p: argparse.ArgumentParser = sub.add_parser(name, help=f"convert {what}")
        p.add_argument("scores", nargs="+", type=float, metavar="SCORE")
        p.set_defaults(func=lambda a, fn=fn: _convert(fn, a.scores))


def _convert(fn: Any, scores: list[float]) -> int:
    for s, out in zip(scores, fn(scores), strict=True):
        print(f"{s:>14.6g}  ->  {out:.9g}")
    return 0
