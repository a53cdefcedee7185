"""A bounded soak of the real shim: the distilled MiniLM-L6 cross-encoder over HTTP on
loopback, a closed loop of ``--concurrency`` clients (default 32), each sending an MS MARCO
query with 100 passages to ``/rerank`` again as soon as it has its answer (after waiting
``Retry-After`` on a 429, as a well-behaved client does), for ``--seconds`` (default 150;
``make bench BENCH=soak30``: 1800). ``--contended`` runs a CPU hog process beside it for the
whole run (``make bench BENCH=soak-contended``).

Prints requests and replies by status. A request is *admitted* once its work has started
(its first pair entered a model batch): it gets 200, or 503 ``Timeout`` if its deadline
passes while its work runs (the target: none). Every refusal is a 429 with
``Retry-After``, counted apart: refused on arrival, and shed from the queue before its work
started (it could no longer make its deadline). Then p50/p99 of answered requests,
transport errors (lost replies), how admitted requests' time from start to answer compared
with admission's forecast, the server's RSS at start, middle and end (and its growth over
the last half), the ``Retry-After`` of the last 15 s against the measured drain time (from
the moment the clients stop sending until the last request in flight is answered), the
load average (start, mean of 1 s samples, end), the machine and the server's settings.

Run: ``make bench BENCH=soak`` or ``python bench/shim_soak.py --help``.
"""

from __future__ import annotations

import argparse
import atexit
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import (
    DISTILLED,
    Measurement,
    distilled_present,
    load_requests,
    print_machine,
    start_shim,
)


def rss_mb(pid: int, field: str = "VmRSS") -> float:
    """``field`` of the process's status in MB: VmRSS, or RssAnon (its own memory, without
    the model's file pages, which the kernel drops and reloads when memory is short)."""
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no {field} for pid {pid}")


def forecast_summary(metrics: str) -> str:
    """Counts of admitted requests by (time from start to answer) / (admission's forecast),
    from the server's ``shim_finish_over_forecast`` histogram."""
    prefix = "shim_finish_over_forecast_bucket{le="
    buckets = [
        (line[len(prefix) + 1 : line.index('"}')], float(line.rsplit(" ", 1)[1]))
        for line in metrics.splitlines()
        if line.startswith(prefix)
    ]
    if not buckets or buckets[-1][1] == 0:
        return "none answered"
    total = buckets[-1][1]
    parts = [f"<= {le}: {count / total:.0%}" for le, count in buckets if le in ("1.0", "2.0")]
    return (
        f"{total:.0f} requests; "
        + ", ".join(parts)
        + f", above 2: {total - dict(buckets)['2.0']:.0f}"
    )


def minute_median(samples: list[tuple[float, float]], until: float) -> float:
    """Median RSS of the samples of the minute up to ``until`` seconds."""
    window = sorted(r for t, r in samples if until - 60.0 <= t <= until)
    return window[len(window) // 2]


def queue_drain_s(metrics: str) -> float:
    """The server's ``shim_queue_drain_seconds`` gauge."""
    for line in metrics.splitlines():
        if line.startswith("shim_queue_drain_seconds "):
            return float(line.split()[1])
    raise RuntimeError("no shim_queue_drain_seconds in /metrics")


def main(argv: Sequence[str] | None = None) -> int:
    import httpx

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=150.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--passages", type=int, default=100)
    parser.add_argument(
        "--contended", action="store_true", help="run a CPU hog process beside the server"
    )
    parser.add_argument(
        "--shim-args",
        default="",
        help="extra serve flags, e.g. '--max-queue-wait 10' (defaults otherwise)",
    )
    args = parser.parse_args(argv)
    if not distilled_present():
        return 0

    print_machine()
    reqs, source = load_requests(200, args.passages, seed=11)
    # The hog runs from before the server starts: the cores are contended throughout.
    hog = subprocess.Popen([sys.executable, "-c", "while True: pass"]) if args.contended else None
    if hog is not None:
        atexit.register(hog.kill)  # gone with the bench, however it ends
    serve_args = ["--model", str(DISTILLED), "--device", "cpu", *args.shim_args.split()]
    proc, url = start_shim(serve_args)
    settings = httpx.get(url + "/info", timeout=10).json()["limits"]
    print(f"server: inference-shim serve {' '.join(serve_args)}; limits {settings}")
    print(
        f"load: {args.concurrency} clients, closed loop, {args.passages} passages per request "
        f"from {source}, {args.seconds:.0f} s" + (", beside a CPU hog" if args.contended else "")
    )

    statuses: Counter[int | str] = Counter()
    refusals: Counter[str] = Counter()  # 429s: "on arrival" or "shed from the queue"
    accepted = Measurement()
    lock = threading.Lock()
    stop = time.monotonic() + args.seconds
    rss: list[tuple[float, float]] = []
    anon: list[tuple[float, float]] = []
    retry_after: list[tuple[float, float]] = []  # (when, Retry-After) of every 429
    answered_at: list[float] = []  # when each reply (or transport error) came
    # Status of each request sent after waiting a Retry-After, and the server's own drain
    # estimate (shim_queue_drain_seconds) when the clients stop sending.
    retried: Counter[int | str] = Counter()
    drain_estimate: list[float] = []

    def client(k: int) -> None:
        rng = random.Random(k)
        after_retry = False  # this request follows a full Retry-After wait
        with httpx.Client(base_url=url, timeout=120) as c:
            while time.monotonic() < stop:
                query, texts = rng.choice(reqs)
                t0 = time.perf_counter()
                try:
                    r = c.post("/rerank", json={"query": query, "texts": texts})
                except httpx.TransportError as exc:
                    with lock:
                        statuses[type(exc).__name__] += 1
                        answered_at.append(time.monotonic())
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    answered_at.append(time.monotonic())
                    statuses[r.status_code] += 1
                    if after_retry:
                        retried[r.status_code] += 1
                    if r.status_code == 429:
                        retry_after.append((time.monotonic(), float(r.headers["Retry-After"])))
                        shed = "before its work started" in r.json()["error"]
                        refusals["shed from the queue" if shed else "on arrival"] += 1
                    if r.status_code == 200:
                        accepted.latencies.append(dt)
                        accepted.pairs += len(texts)
                after_retry = False
                if r.status_code == 429:
                    # Not past the end of the run (the drain is measured from it).
                    pause = min(float(r.headers.get("Retry-After", "1")), 30.0)
                    after_retry = time.monotonic() + pause < stop
                    time.sleep(max(0.0, min(pause, stop - time.monotonic())))

    start = time.monotonic()
    load_start = os.getloadavg()[0]
    loads: list[float] = []
    threads = [threading.Thread(target=client, args=(k,)) for k in range(args.concurrency)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        if not drain_estimate and time.monotonic() >= stop:
            drain_estimate.append(queue_drain_s(httpx.get(url + "/metrics", timeout=10).text))
        rss.append((time.monotonic() - start, rss_mb(proc.pid)))
        anon.append((rss[-1][0], rss_mb(proc.pid, "RssAnon")))
        loads.append(os.getloadavg()[0])
        time.sleep(1.0)
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    drain = max([t for t in answered_at if t >= stop], default=stop) - stop
    late = [r for t, r in retry_after if t >= stop - 15.0]
    load_end = os.getloadavg()[0]
    if hog is not None:
        hog.kill()
        hog.wait()
    metrics = httpx.get(url + "/metrics", timeout=10).text
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(60)

    half = args.seconds / 2
    mid = min(rss, key=lambda p: abs(p[0] - half))[1]
    first, last = rss[0][1], rss[-1][1]
    total = sum(statuses.values())
    non2xx = {k: v for k, v in statuses.items() if k != 200}
    fives = sum(v for k, v in statuses.items() if isinstance(k, int) and k >= 500)
    lost = sum(v for k, v in statuses.items() if isinstance(k, str))
    dropped = [
        line for line in metrics.splitlines() if line.startswith("shim_dropped_requests_total")
    ]
    admitted = statuses[200] + fives
    print()
    print(f"requests: {total} in {wall:.0f} s; 200: {statuses[200]}; non-2xx by code: {non2xx}")
    print(
        f"admitted (work started): {admitted}; of them 5xx: {fives}; lost replies (transport "
        f"errors): {lost}; refused (429): {statuses[429]} ({dict(refusals)})"
    )
    print(
        f"answered: p50 {accepted.percentile(0.5):.2f} s, p99 {accepted.percentile(0.99):.2f} s, "
        f"max {accepted.percentile(1.0):.2f} s; {accepted.pairs / wall:.1f} pairs/s"
    )
    print(f"start -> answer over admission's forecast: {forecast_summary(metrics)}")
    print(
        f"server RSS: start {first:.0f} MB, mid {mid:.0f} MB, end {last:.0f} MB; growth over "
        f"the last half {100 * (last - mid) / mid:+.1f}%"
    )
    # Single samples swing with the batches in flight; medians of a minute do not.
    mid_m, last_m = minute_median(rss, half), minute_median(rss, rss[-1][0])
    low, high = min(r for _, r in rss), max(r for _, r in rss)
    print(
        f"server RSS, median of the minute up to the middle / the end: {mid_m:.0f} / "
        f"{last_m:.0f} MB ({100 * (last_m - mid_m) / mid_m:+.1f}%); min {low:.0f} MB, max "
        f"{high:.0f} MB"
    )
    a_start, a_mid, a_end = anon[0][1], minute_median(anon, half), minute_median(anon, anon[-1][0])
    a_growth = 100 * (a_end - a_mid) / a_mid
    print(
        f"server anonymous RSS (RssAnon), start / median of the minute up to the middle / "
        f"the end: {a_start:.0f} / {a_mid:.0f} / {a_end:.0f} MB ({a_growth:+.1f}% over the "
        "last half)"
    )
    print(f"engine drops: {'; '.join(dropped) or 'none'}")
    if late:
        # Retry-After is whole seconds, at least 1: below 1 s of drain, 1 s is the answer.
        ratio = f"{max(late) / drain:.2f}" if drain >= 1.0 else "n/a (drain under 1 s)"
        print(
            f"Retry-After of the {len(late)} 429s in the last 15 s: median "
            f"{sorted(late)[len(late) // 2]:.0f} s, max {max(late):.0f} s; measured drain time "
            f"(clients stop sending -> last reply) {drain:.1f} s; max Retry-After / drain "
            f"{ratio}"
        )
        # The queue a Retry-After foretells is the one when it was sent: those of the last
        # 2 s before the stop foretell the queue whose drain is measured.
        final = [r for t, r in retry_after if t >= stop - 2.0]
        if final and drain >= 1.0:
            print(
                f"Retry-After of the {len(final)} 429s in the last 2 s: median "
                f"{sorted(final)[len(final) // 2]:.0f} s, max {max(final):.0f} s; median / "
                f"drain {sorted(final)[len(final) // 2] / drain:.2f}, max / drain "
                f"{max(final) / drain:.2f}"
            )
    else:
        print(f"no 429 in the last 15 s; measured drain time {drain:.1f} s")
    if drain_estimate:
        print(
            f"server's drain estimate (shim_queue_drain_seconds) within 1 s after the clients "
            f"stop: {drain_estimate[0]:.1f} s, against the measured {drain:.1f} s"
        )
    print(
        f"requests sent after waiting a Retry-After: {sum(retried.values())}; by status "
        f"{dict(retried)}"
    )
    mean_load = sum(loads) / max(1, len(loads))
    print(f"load average (1 min): start {load_start:.2f}, mean {mean_load:.2f}, end {load_end:.2f}")
    print(f"server exit status after SIGTERM: {code}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
