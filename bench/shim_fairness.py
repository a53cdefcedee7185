"""Head-of-line blocking and throughput of the shim's engine, against the engine of an
earlier revision, side by side in one run.

On the distilled MiniLM-L6 cross-encoder (``../shared/models/minilm-l6-distilled-ce``),
in-process (the engine alone, no HTTP), rounds interleaved so a neighbour's load falls on
every variant:

  head of line: a request of 200 passages of 100 words, then 1 s later a request of one
      passage; the latency of each;
  throughput: 32 requests of 100 MS MARCO passages submitted at once; pairs/s and p50/p99.

Variants: this checkout's engine (fair scheduling), the same engine with ``fair_share=0``
(strictly oldest first), and with ``--baseline REV`` the engine of that git revision
(``inference_shim/runner.py`` as it was, loaded beside this checkout's package).

Run: ``make bench BENCH=fairness`` or ``python bench/shim_fairness.py --help``.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DISTILLED,
    ROOT,
    Measurement,
    Request,
    distilled_present,
    load_requests,
    print_machine,
)

EngineFactory = Callable[[Any], Any]


def hundred_word_passages(n: int, seed: int) -> list[str]:
    """``n`` passages of exactly 100 words, joined from MS MARCO passages (or the
    synthetic fallback)."""
    reqs, _ = load_requests(1, 400, seed)
    words = " ".join(t for _, texts in reqs for t in texts).split()
    return [" ".join(words[(k * 100) % (len(words) - 100) :][:100]) for k in range(n)]


def baseline_engine(rev: str) -> EngineFactory:
    """The ``Engine`` class of ``inference_shim/runner.py`` at git revision ``rev``."""
    source = subprocess.run(
        ["git", "show", f"{rev}:inference_shim/runner.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    path = Path(tempfile.mkdtemp()) / "baseline_runner.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("baseline_runner", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    cls = module.Engine
    return lambda runtime: cls(runtime, max_batch_tokens=4096)


def head_of_line(engine: Any, big: list[str], small: list[str]) -> tuple[float, float]:
    """(latency of the small request, latency of the big one), in seconds."""
    out: dict[str, float] = {}

    def send(name: str, texts: list[str]) -> None:
        t0 = time.perf_counter()
        engine.score("what is the population of berlin", texts)
        out[name] = time.perf_counter() - t0

    first = threading.Thread(target=send, args=("big", big))
    first.start()
    time.sleep(1.0)
    send("small", small)
    first.join()
    return out["small"], out["big"]


def throughput(engine: Any, reqs: Sequence[Request]) -> Measurement:
    latencies: list[float] = []
    lock = threading.Lock()

    def one(req: Request) -> None:
        t0 = time.perf_counter()
        engine.score(req[0], req[1])
        with lock:
            latencies.append(time.perf_counter() - t0)

    threads = [threading.Thread(target=one, args=(r,)) for r in reqs]
    start = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return Measurement(
        wall=time.perf_counter() - start, pairs=sum(len(t) for _, t in reqs), latencies=latencies
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--baseline", help="git revision whose engine to compare with")
    parser.add_argument("--requests", type=int, default=32)
    args = parser.parse_args(argv)
    if not distilled_present():
        return 0

    from inference_shim.config import Settings
    from inference_shim.loading import build_runtime
    from inference_shim.runner import Engine

    print_machine()
    runtime = build_runtime(Settings(model=str(DISTILLED), device="cpu"))
    variants: dict[str, EngineFactory] = {
        "fair (this checkout)": lambda rt: Engine(rt, max_batch_tokens=4096),
        "oldest first (fair_share=0)": lambda rt: Engine(rt, max_batch_tokens=4096, fair_share=0),
    }
    if args.baseline:
        variants[f"engine at {args.baseline}"] = baseline_engine(args.baseline)
    big, small = hundred_word_passages(200, seed=1), hundred_word_passages(1, seed=2)
    reqs, source = load_requests(args.requests, 100, seed=3)
    print(
        f"model {DISTILLED.name} on torch fp32 cpu, max_batch_tokens 4096; head of line: 200 "
        f"passages of 100 words, then 1 passage 1 s later; throughput: {args.requests} "
        f"concurrent requests of 100 passages from {source}; {args.rounds} rounds interleaved"
    )
    hol: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
    tput: dict[str, Measurement] = {name: Measurement() for name in variants}
    engines = {name: make(runtime) for name, make in variants.items()}
    for engine in engines.values():
        engine.start()
        engine.wait_ready()
        engine.score("warm up", small * 8)
    for r in range(args.rounds):
        for name, engine in engines.items():
            hol[name].append(head_of_line(engine, big, small))
            one = throughput(engine, reqs)
            tput[name].add(one)
            print(
                f"  {name}: 1-text {hol[name][-1][0]:.2f} s behind 200-text "
                f"{hol[name][-1][1]:.2f} s; {one.pairs_per_s:.1f} pairs/s",
                flush=True,
            )
        print(
            f"round {r + 1}/{args.rounds} done; load average {os.getloadavg()[0]:.2f}", flush=True
        )
    for engine in engines.values():
        engine.close()
    base = next(iter(tput.values())).pairs_per_s
    print(
        "\n| engine | 1-text request behind 200-text (s) | 200-text request (s) | "
        f"pairs/s at {args.requests} concurrent | ratio | p50 (s) | p99 (s) |"
    )
    print("|---|---|---|---|---|---|---|")
    for name in variants:
        small_s = statistics.median(s for s, _ in hol[name])
        big_s = statistics.median(b for _, b in hol[name])
        m = tput[name]
        print(
            f"| {name} | {small_s:.2f} | {big_s:.2f} | {m.pairs_per_s:.1f} | "
            f"{m.pairs_per_s / base:.2f} | {m.percentile(0.5):.2f} | {m.percentile(0.99):.2f} |"
        )
    print(f"\nload average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
