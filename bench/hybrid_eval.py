"""First stages on the three shared datasets, each with and without the reranker, in one table
and one plot: ``es-rerank eval --first-stages all`` per dataset, then combined.

    python bench/hybrid_eval.py [--window 30] [--model DIR] [--out eval-out/first-stages]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import DATASETS, DISTILLED, machine

from es_rerank.cli import main as cli
from es_rerank.evaluation.first_stages import print_first_stages, write_first_stages_png

NAMES = ("cranfield", "msmarco-dl19-subset", "dbpedia-entity-subset")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--window", type=int, default=30)
    p.add_argument("--model", default=str(DISTILLED))
    p.add_argument("--datasets", type=Path, default=DATASETS, help="the shared datasets folder")
    p.add_argument(
        "--limit-queries", type=int, default=None, help="only the first N judged queries (all)"
    )
    p.add_argument("--names", default=",".join(NAMES), help="which of the shared datasets")
    p.add_argument("--out", type=Path, default=Path("eval-out/first-stages"))
    a = p.parse_args()
    print(json.dumps(machine()))
    combined = {}
    for name in a.names.split(","):
        out = a.out / name
        argv = [
            "eval",
            "--dataset",
            str(a.datasets / name),
            "--first-stages",
            "all",
            "--force",
            "--rank-window-size",
            str(a.window),
            "--model",
            a.model,
            "--out",
            str(out),
        ]
        if a.limit_queries is not None:
            argv += ["--limit-queries", str(a.limit_queries)]
        if cli(argv) != 0:
            raise SystemExit(f"eval failed on {name}")
        combined[name] = json.loads((out / "first_stages.json").read_text())
    print(f"\nall datasets, window {a.window}, load average {os.getloadavg()}")
    for name, result in combined.items():
        print(f"{name} ({result['queries']} queries):")
        print_first_stages(result["first_stages"], ("ndcg@10", "mrr@10", "map"))
    write_first_stages_png(
        {n: r["first_stages"] for n, r in combined.items()}, a.out / "first_stages.png"
    )
    (a.out / "first_stages.json").write_text(json.dumps(combined, indent=2))
    print(f"wrote {a.out / 'first_stages.png'} and {a.out / 'first_stages.json'}")


if __name__ == "__main__":
    main()
