"""What retrying a read timeout costs a rerank server: work computed for nobody.

A read timeout means the server accepted the request and may still be computing it; a
client that sends it again adds a second copy to the same queue. Under load every copy
waits behind the others, times out too, and is sent again: the server ends up scoring
many times more requests than it answers in time.

This starts a real shim (``inference-shim serve`` in a subprocess, the distilled MiniLM-L6
cross-encoder from ../shared/models when present, else ``--scorer`` with a fixed delay),
sends ``--calls`` concurrent :class:`~es_rerank.ShimReranker` calls of ``--passages``
passages each with a ``--timeout`` read timeout, waits until the server has drained its
queue, and prints, per retry policy, how many calls succeeded, how many requests reached the
server and how many responses the server computed (``shim_pairs_total`` / passages).

Run: ``python bench/read_timeout_retries.py [--policy both|default|retry-timeouts]``.
"""

from __future__ import annotations

import argparse
import inspect
import os
import platform
import re
import sys
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import httpx
from common import DISTILLED, load_requests, machine, start_shim

from es_rerank import RerankError, ShimReranker

RERANK_ROUTE = "/inference/rerank"


@dataclass
class Outcome:
    policy: str
    calls: int
    succeeded: int
    failed: dict[str, int]
    received: int
    computed: float
    wall_s: float
    drain_s: float


def metrics(url: str) -> tuple[int, float, float]:
    """(rerank requests answered with any status, pairs scored, requests in the engine)."""
    text = httpx.get(url + "/metrics", timeout=30).text
    answered = sum(
        float(m.group(1))
        for m in re.finditer(
            r'^shim_requests_total\{route="' + re.escape(RERANK_ROUTE) + r'",status="\d+"\} (\S+)',
            text,
            re.M,
        )
    )

    def value(name: str) -> float:
        found = re.search(rf"^{name} (\S+)", text, re.M)
        return float(found.group(1)) if found else 0.0

    return int(answered), value("shim_pairs_total"), value("shim_queue_depth")


def wait_drained(url: str, limit_s: float = 3600.0) -> float:
    """Seconds until the engine holds no request (queued or running) on two polls in a row."""
    start = time.monotonic()
    idle = 0
    while time.monotonic() - start < limit_s and idle < 2:
        time.sleep(1.0)
        idle = idle + 1 if metrics(url)[2] == 0 else 0
    return time.monotonic() - start - 2.0


def run_policy(
    policy: str, url: str, requests: list[tuple[str, list[str]]], args: argparse.Namespace
) -> Outcome:
    kwargs: dict[str, object] = {"timeout": args.timeout, "retries": args.retries}
    accepts = "retry_on_timeout" in inspect.signature(ShimReranker.__init__).parameters
    if accepts:
        kwargs["retry_on_timeout"] = policy == "retry-timeouts"
    elif policy == "default":
        print("  (this ShimReranker has no retry_on_timeout: it always retries read timeouts)")
    received0, pairs0, _ = metrics(url)
    failed: dict[str, int] = {}
    lock = threading.Lock()

    def one(req: tuple[str, list[str]]) -> bool:
        reranker = ShimReranker(url, **kwargs)  # type: ignore[arg-type]
        try:
            reranker.rerank(req[0], req[1])
            return True
        except RerankError as exc:
            reason = re.sub(r".*?(HTTP \d+|[A-Z]\w+(Timeout|Error)).*", r"\1", str(exc), flags=re.S)
            with lock:
                failed[reason] = failed.get(reason, 0) + 1
            return False
        finally:
            reranker.close()

    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(requests)) as pool:
        ok = sum(pool.map(one, requests))
    wall = time.perf_counter() - start
    drain = wait_drained(url)
    received1, pairs1, _ = metrics(url)
    return Outcome(
        policy=policy,
        calls=len(requests),
        succeeded=ok,
        failed=failed,
        received=received1 - received0,
        computed=(pairs1 - pairs0) / args.passages,
        wall_s=wall,
        drain_s=drain,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--model", type=Path, default=DISTILLED, help="cross-encoder directory")
    parser.add_argument(
        "--scorer",
        help="serve this package.module:function instead of a model (e.g. a slow one)",
    )
    parser.add_argument("--calls", type=int, default=32, help="concurrent rerank calls")
    parser.add_argument("--passages", type=int, default=100, help="passages per call")
    parser.add_argument("--timeout", type=float, default=10.0, help="client timeout, seconds")
    parser.add_argument("--retries", type=int, default=3, help="client retries")
    parser.add_argument(
        "--policy",
        choices=["both", "default", "retry-timeouts"],
        default="both",
        help="default: the client's default policy; retry-timeouts: read timeouts retried",
    )
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)

    if args.scorer:
        server_args = ["--scorer", args.scorer]
        served = f"--scorer {args.scorer}"
    elif (args.model / "config.json").is_file():
        server_args = ["--model", str(args.model), "--device", "cpu"]
        served = f"--model {args.model}"
    else:
        print(f"{args.model} is absent: pass --model DIR or --scorer MOD:FN", file=sys.stderr)
        return 2
    requests, source = load_requests(args.calls, args.passages, args.seed)
    about = machine()
    print(
        f"machine: {about.get('cpu', platform.machine())}, {len(os.sched_getaffinity(0))} "
        f"cores, Python {platform.python_version()}; load average (1 min) at start "
        f"{os.getloadavg()[0]:.2f}"
    )
    print(f"server: inference-shim serve {served} (other settings default)")
    print(
        f"client: {args.calls} concurrent ShimReranker calls x {args.passages} passages "
        f"({source}), timeout {args.timeout:g} s, retries {args.retries}"
    )
    policies = ["retry-timeouts", "default"] if args.policy == "both" else [args.policy]
    outcomes = []
    for policy in policies:
        proc, url = start_shim(server_args)
        try:
            print(f"running policy {policy} ...", flush=True)
            outcomes.append(run_policy(policy, url, requests, args))
        finally:
            proc.terminate()
            proc.wait(120)
    print()
    print(
        "| client policy | calls | succeeded | failed | requests the server received "
        "| responses it computed | client wall | server busy after the last call |"
    )
    print("|---|---:|---:|---|---:|---:|---:|---:|")
    for o in outcomes:
        failed = ", ".join(f"{n} {why}" for why, n in sorted(o.failed.items())) or "0"
        print(
            f"| {o.policy} | {o.calls} | {o.succeeded} | {failed} | {o.received} "
            f"| {o.computed:.0f} | {o.wall_s:.0f} s | {o.drain_s:.0f} s |"
        )
    print(f"\nload average (1 min) at end: {os.getloadavg()[0]:.2f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
