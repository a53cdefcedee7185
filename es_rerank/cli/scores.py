"""``es-rerank normalize|denormalize``: convert scores between ES's raw and normalized units,
as a table or, with ``--json``, as ``{"raw": [...], "normalized": [...]}``."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable, Sequence
from typing import Any

from es_rerank.scores import denormalize, normalize


def register(sub: Any) -> None:
    for name, fn, what, units in (
        ("normalize", normalize, "raw reranker scores to the normalized scores ES returns",
         ("raw", "normalized")),
        ("denormalize", denormalize, "normalized scores back to raw (e.g. for min_score)",
         ("normalized", "raw")),
    ):  # fmt: skip
        p: argparse.ArgumentParser = sub.add_parser(name, help=f"convert {what}")
        p.add_argument("scores", nargs="+", type=float, metavar="SCORE", help=f"{units[0]} scores")
        p.add_argument(
            "--json",
            action="store_true",
            help=f'print {{"{units[0]}": [...], "{units[1]}": [...]}} instead of a table',
        )
        p.set_defaults(func=lambda a, fn=fn, units=units: _convert(fn, a.scores, units, a.json))


def _convert(
    fn: Callable[[Sequence[float]], list[float]],
    scores: list[float],
    units: tuple[str, str],
    as_json: bool,
) -> int:
    converted = fn(scores)
    if as_json:
        print(json.dumps({units[0]: scores, units[1]: converted}))
        return 0
    for s, out in zip(scores, converted, strict=True):
        print(f"{s:>14.6g}  ->  {out:.9g}")
    return 0
