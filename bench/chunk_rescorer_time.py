"""Rerank time with and without ``chunk_rescorer`` on cranfield's long abstracts, measured
side by side: one model, one local index, the same queries and window, the two settings
alternating query by query (which one goes first alternates too), so shared-CPU noise falls
on both alike. Prints the machine, the settings, seconds, pairs and texts' mean length for
each, and the ratio.

    .venv/bin/python bench/chunk_rescorer_time.py [--queries 10] [--rank-window-size 50]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from collections.abc import Sequence

from common import DATASETS, DISTILLED, machine

from es_rerank import LocalIndex
from es_rerank.command_line import add_deprecated_spelling
from es_rerank.datasets import load_beir
from es_rerank.evaluation.first_stages import first_stage_query
from es_rerank.factories import cross_encoder_reranker
from es_rerank.rerank_window import rerank_window

CHUNK = {"size": 1, "chunking_settings": {"max_chunk_size": 100}}


class Timed:
    """Counts the pairs and words a reranker is sent and the seconds it takes."""

    def __init__(self, inner: object) -> None:
        self.inner = inner
        self.seconds = 0.0
        self.pairs = 0
        self.words = 0

    def rerank(self, query: str, texts: Sequence[str]) -> Sequence[float]:
        t0 = time.perf_counter()
        out = self.inner.rerank(query, texts)  # type: ignore[attr-defined]
        self.seconds += time.perf_counter() - t0
        self.pairs += len(texts)
        self.words += sum(len(t.split()) for t in texts)
        return out  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--queries", type=int, default=10)
    add_deprecated_spelling(
        ap, "--window", ap.add_argument("--rank-window-size", type=int, default=50)
    )
    ap.add_argument("--max-length", type=int, default=256)
    ap.add_argument("--chunk-rescorer", default=json.dumps(CHUNK))
    args = ap.parse_args()
    chunk = json.loads(args.chunk_rescorer)
    data = load_beir(DATASETS / "cranfield")
    print(json.dumps(machine(), indent=1))
    with tempfile.TemporaryDirectory() as tmp:
        index = LocalIndex(tmp, mapping="passages")
        index.add(data.corpus, progress=False)
        model = cross_encoder_reranker(DISTILLED, max_length=args.max_length)
        model.rerank("warm up", ["one text"] * 4)
        runs = {"whole text": Timed(model), "chunk_rescorer": Timed(model)}
        settings = {"whole text": None, "chunk_rescorer": chunk}
        for i, text in enumerate(list(data.queries.values())[: args.queries]):
            order = list(runs) if i % 2 == 0 else list(reversed(runs))
            for name in order:
                rerank_window(
                    runs[name],
                    text,
                    backend=index,
                    first_stage=first_stage_query(text),
                    window=args.rank_window_size,
                    chunk_rescorer=settings[name],
                )
    print(
        f"cranfield, first {args.queries} queries, window {args.rank_window_size}, max length "
        f"{args.max_length} tokens, {DISTILLED.name} (torch fp32), chunk_rescorer {chunk}"
    )
    for name, r in runs.items():
        print(
            f"  {name:<15} {r.seconds:8.1f} s  {r.pairs:5d} pairs  "
            f"{r.words / max(r.pairs, 1):6.1f} words per text  "
            f"{1000 * r.seconds / max(r.pairs, 1):6.1f} ms per pair"
        )
    ratio = runs["chunk_rescorer"].seconds / runs["whole text"].seconds
    print(f"  chunk_rescorer / whole text time: {ratio:.2f}")
    print(f"  load average (1 min) at end: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
