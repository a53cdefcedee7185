"""Quality of every runtime/dtype against fp32 torch on a real cross-encoder.

Model: ``../shared/models/minilm-l6-distilled-ce`` (a weak but real MiniLM-L6 cross-encoder).
For msmarco-dl19-subset and dbpedia-entity-subset, every judged query's BM25 top 50
(multi_match on title and text, on the embedded local index, as ``es-rerank eval``) is
reranked with each runtime through ``es_rerank.search`` (Elasticsearch's rules). Printed:
score agreement with fp32 torch (Spearman over all pairs, max |diff|, the largest move of
a passage within its query's top 50) and NDCG@10, fp32 vs each.

Run: ``make bench BENCH=quality`` (or ``python bench/runtime_quality.py --help``).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import BENCH_CACHE, DATASETS, DISTILLED, machine

from es_rerank.command_line import add_deprecated_spelling

COLLECTIONS = ("msmarco-dl19-subset", "dbpedia-entity-subset")
RUNTIMES = [
    ("torch", "fp32"),
    ("torch", "bf16"),
    ("onnx", "fp32"),
    ("onnx", "int8"),
    ("openvino", "fp32"),
    ("openvino", "bf16"),
    ("openvino", "int8"),
]


class Recorder:
    """A reranker that keeps every score it returns, in call order."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.scores: list[float] = []
        self.groups: list[int] = []

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        out: list[float] = self.inner.rerank(query, texts)  # type: ignore[attr-defined]
        self.scores.extend(out)
        self.groups.append(len(out))
        return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    window = parser.add_argument(
        "--rank-window-size", type=int, default=50, help="BM25 hits reranked (50)"
    )
    add_deprecated_spelling(parser, "--window", window)
    parser.add_argument("--max-length", type=int, default=256, help="tokens per pair (256)")
    parser.add_argument(
        "--runtimes", nargs="+", help="runtime:dtype items (default: all seven)", default=None
    )
    args = parser.parse_args(argv)
    missing = [p for p in (DISTILLED, *(DATASETS / c for c in COLLECTIONS)) if not p.exists()]
    if missing:
        print(f"quality check skipped: {', '.join(map(str, missing))} absent")
        return 0
    os.environ.setdefault("ES_RERANK_CACHE", str(BENCH_CACHE / "es-rerank"))

    from es_rerank.backends.local import LocalIndex
    from es_rerank.datasets import load_beir
    from es_rerank.evaluation import evaluate
    from es_rerank.evaluation.first_stages import first_stage_query
    from es_rerank.rerank_window import rerank_window
    from es_rerank.rerankers import CrossEncoderReranker
    from es_rerank.runtime.agreement import Agreement

    print("machine:")
    for k, v in machine().items():
        print(f"  {k}: {v}")
    runtimes = [tuple(x.split(":")) for x in args.runtimes] if args.runtimes else RUNTIMES
    print(
        f"model: {DISTILLED}; BM25 top {args.rank_window_size}; pairs truncated to "
        f"{args.max_length} tokens"
    )

    data = {}
    for name in COLLECTIONS:
        beir = load_beir(DATASETS / name)
        index_dir = BENCH_CACHE / f"index-{name}"
        index = LocalIndex(index_dir, mapping="passages")
        if index.count() == 0:
            index.add(beir.corpus, progress=False)
        data[name] = (beir, index)

    # results[(runtime, dtype)][collection] = (scores, groups, ndcg, seconds)
    results: dict[tuple[str, ...], dict[str, tuple[list[float], list[int], float, float]]] = {}
    for runtime, dtype in runtimes:
        try:
            reranker = CrossEncoderReranker(
                DISTILLED, runtime=runtime, dtype=dtype, max_length=args.max_length
            )
        except Exception as exc:
            print(f"{runtime} {dtype}: unavailable: {type(exc).__name__}: {exc}")
            continue
        per: dict[str, tuple[list[float], list[int], float, float]] = {}
        for name, (beir, index) in data.items():
            rec = Recorder(reranker)
            run: dict[str, list[str]] = {}
            t0 = time.perf_counter()
            for qid, text in beir.queries.items():
                if qid not in beir.qrels:
                    continue
                hits = rerank_window(
                    rec,
                    text,
                    backend=index,
                    first_stage=first_stage_query(text),
                    window=args.rank_window_size,
                )
                run[qid] = [h.id for h in hits]
            seconds = time.perf_counter() - t0
            qrels = {q: beir.qrels[q] for q in run}
            ndcg = evaluate(run, qrels, metrics=("ndcg@10",)).aggregate["ndcg@10"]
            per[name] = (rec.scores, rec.groups, ndcg, seconds)
            print(
                f"  {runtime} {dtype} on {name}: NDCG@10 {ndcg:.4f}, {len(rec.scores)} pairs "
                f"in {seconds:.1f}s",
                flush=True,
            )
        results[(runtime, dtype)] = per

    ref = results.get(("torch", "fp32"))
    if ref is None:
        print("fp32 torch did not run: no comparison")
        return 1
    ms, db = COLLECTIONS
    print()
    print(
        f"| runtime | dtype | Spearman vs fp32 ({ms}, {len(ref[ms][0])} pairs) | max abs diff "
        f"| max rank move in top {args.rank_window_size} | Spearman ({db}) | NDCG@10 {ms} | change "
        f"| NDCG@10 {db} | change | pairs/s |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for (runtime, dtype), per in results.items():
        a = Agreement.of(ref[ms][0], per[ms][0], groups=ref[ms][1])
        b = Agreement.of(ref[db][0], per[db][0], groups=ref[db][1])
        pairs = len(per[ms][0]) + len(per[db][0])
        secs = per[ms][3] + per[db][3]
        cells = [
            runtime,
            dtype,
            f"{a.spearman:.5f}",
            f"{a.max_abs_diff:.4f}",
            f"{max(a.max_displacement, b.max_displacement)}",
            f"{b.spearman:.5f}",
        ]
        for name in COLLECTIONS:
            base = ref[name][2]
            cells += [f"{per[name][2]:.4f}", f"{100 * (per[name][2] - base) / base:+.2f}%"]
        cells.append(f"{pairs / secs:.1f}")
        print("| " + " | ".join(cells) + " |")
    print()
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
