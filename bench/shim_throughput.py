"""Throughput of the rerank shim against sentence-transformers, side by side in one run.

Same model (the exact ms-marco-MiniLM-L-6-v2 architecture, random weights: speed does not
depend on the weights) and the same requests (a query and 100 passages each) for:

  (a) CrossEncoder.predict in-process, default settings;
  (b) the shim's engine in-process (length-sorted token-budget batching);
  (c) the shim over HTTP (a real server on loopback in a subprocess) at several
      concurrencies.

Passages and queries come from ../shared/datasets/msmarco-dl19-subset when present;
otherwise a seeded synthetic fallback with MS MARCO-like lengths (20-120 words).

Run: ``make bench`` (or ``python bench/shim_throughput.py --help``).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DATASET = ROOT.parent / "shared" / "datasets" / "msmarco-dl19-subset"
Request = tuple[str, list[str]]


def load_requests(n: int, per_request: int, seed: int) -> tuple[list[Request], str]:
    rng = random.Random(seed)
    if (DATASET / "corpus.jsonl").is_file() and (DATASET / "queries.jsonl").is_file():
        with open(DATASET / "corpus.jsonl") as f:
            corpus = [json.loads(line)["text"] for line in f]
        with open(DATASET / "queries.jsonl") as f:
            queries = [json.loads(line)["text"] for line in f]
        source = f"msmarco-dl19-subset ({len(queries)} queries, {len(corpus)} passages)"
    else:
        words = [f"w{i}" for i in range(3000)]
        corpus = [" ".join(rng.choices(words, k=rng.randint(20, 120))) for _ in range(5000)]
        queries = [" ".join(rng.choices(words, k=rng.randint(3, 10))) for _ in range(50)]
        source = "synthetic fallback (msmarco-dl19-subset absent): 20-120 word passages"
    reqs = [(queries[k % len(queries)], rng.sample(corpus, per_request)) for k in range(n)]
    return reqs, source


def machine() -> dict[str, str]:
    import sentence_transformers
    import torch
    import transformers

    cpu = platform.processor() or "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        from importlib.metadata import version

        import waitress  # type: ignore[import-untyped]  # noqa: F401

        waitress_version = version("waitress")
    except Exception:
        waitress_version = "?"
    return {
        "cpu": cpu,
        "cores": str(len(os.sched_getaffinity(0))),
        "torch threads": str(torch.get_num_threads()),
        "python": platform.python_version(),
        "torch": torch.__version__,
        "transformers": transformers.__version__,
        "sentence-transformers": sentence_transformers.__version__,
        "waitress": waitress_version,
        "load average (1 min) at start": f"{os.getloadavg()[0]:.2f}",
    }


def timed(
    fn: Callable[[Request], object], reqs: Sequence[Request], concurrency: int
) -> Measurement:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(req: Request) -> None:
        t0 = time.perf_counter()
        fn(req)
        dt = time.perf_counter() - t0
        with lock:
            latencies.append(dt)

    start = time.perf_counter()
    if concurrency == 1:
        for r in reqs:
            one(r)
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            list(pool.map(one, reqs))
    return Measurement(
        wall=time.perf_counter() - start,
        pairs=sum(len(t) for _, t in reqs),
        latencies=latencies,
    )


@dataclass
class Measurement:
    wall: float = 0.0
    pairs: int = 0
    latencies: list[float] = field(default_factory=list)

    def add(self, other: Measurement) -> None:
        self.wall += other.wall
        self.pairs += other.pairs
        self.latencies.extend(other.latencies)

    @property
    def pairs_per_s(self) -> float:
        return self.pairs / self.wall

    def percentile(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, round(q * (len(lat) - 1)))]


def start_server(model: Path, max_batch_tokens: int) -> tuple[subprocess.Popen[str], str]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "inference_shim",
            "serve",
            "--model",
            str(model),
            "--port",
            "0",
            "--max-batch-tokens",
            str(max_batch_tokens),
            "--threads",
            "64",
            "--max-queue",
            "256",
        ],
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("inference-shim listening on "):
            url = line.rsplit(" ", 1)[1].strip()
            break
    else:
        raise RuntimeError("the shim did not start")
    threading.Thread(target=lambda: [None for _ in proc.stdout or ()], daemon=True).start()
    import httpx

    while httpx.get(url + "/ready", timeout=10).status_code != 200:
        time.sleep(0.2)
    return proc, url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=32, help="requests per measurement")
    parser.add_argument("--passages", type=int, default=100, help="passages per request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    parser.add_argument("--max-batch-tokens", type=int, default=4096)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    import httpx
    import torch
    from sentence_transformers import CrossEncoder

    from inference_shim.config import Settings
    from inference_shim.loading import build_engine
    from tests.helpers.tiny_models import minilm_l6_random

    reqs, source = load_requests(args.requests, args.passages, args.seed)
    info = machine()
    print("machine:")
    for k, v in info.items():
        print(f"  {k}: {v}")
    print(
        f"data: {source}; {args.requests} requests x {args.passages} passages; "
        f"--max-batch-tokens {args.max_batch_tokens}"
    )

    with tempfile.TemporaryDirectory() as tmp:
        model_dir = minilm_l6_random(Path(tmp) / "minilm-l6-random")
        warm = reqs[:2]
        ce = CrossEncoder(str(model_dir))

        def predict(req: Request) -> object:
            return ce.predict([(req[0], t) for t in req[1]], show_progress_bar=False)

        engine = build_engine(
            Settings(model=str(model_dir), max_batch_tokens=args.max_batch_tokens)
        )
        engine.wait_ready()

        def engine_score(req: Request) -> object:
            return engine.score(req[0], req[1])

        proc, url = start_server(model_dir, args.max_batch_tokens)
        local = threading.local()

        def http(req: Request) -> object:
            client = getattr(local, "client", None)
            if client is None:
                client = local.client = httpx.Client(base_url=url, timeout=600)
            r = client.post("/rerank", json={"query": req[0], "texts": req[1]})
            r.raise_for_status()
            return r.json()

        settings: list[tuple[str, Callable[[Request], object], int]] = [
            ("(a) CrossEncoder.predict, in-process", predict, 1),
            ("(b) shim engine, in-process", engine_score, 1),
            *((f"(c) shim over HTTP, concurrency {c}", http, c) for c in args.concurrency),
        ]
        results = {name: Measurement() for name, _, _ in settings}
        try:
            for _, fn, _ in settings:
                timed(fn, warm, 1)
            # Rounds interleave the settings, so a neighbour's load on the shared CPU
            # falls on all of them rather than on whichever ran at that moment.
            size = math.ceil(len(reqs) / args.rounds)
            for r in range(args.rounds):
                part = reqs[r * size : (r + 1) * size]
                for name, fn, c in settings:
                    m = timed(fn, part, c)
                    results[name].add(m)
                    print(f"  round {r + 1}: {name}: {m.pairs_per_s:.1f} pairs/s", flush=True)
        finally:
            proc.terminate()
            proc.wait(60)
            engine.close()

    base = results[settings[0][0]].pairs_per_s
    print()
    print(f"torch threads: {torch.get_num_threads()}; rounds: {args.rounds}")
    print(f"| setting | pairs/s | vs (a) | p50 per {args.passages} passages | p99 |")
    print("|---|---:|---:|---:|---:|")
    for name, _, _ in settings:
        m = results[name]
        print(
            f"| {name} | {m.pairs_per_s:.1f} | {m.pairs_per_s / base:.2f}x "
            f"| {m.percentile(0.5) * 1000:.0f} ms | {m.percentile(0.99) * 1000:.0f} ms |"
        )
    print()
    print(f"load average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
