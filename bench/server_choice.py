"""Waitress (the shim's server, with its subclasses) against granian serving the same Flask
app and engine: throughput of the real shim, new clients beside slow-body connections, and
memory. Granian is not a dependency of the project: the bench skips it unless it imports
(``pip install --target DIR granian`` and ``GRANIAN_PATH=DIR``).

For each server, in turn: ``--concurrency`` clients send MS MARCO requests of
``--passages`` passages for ``--seconds`` (pairs/s); then ``--slow`` connections send
complete headers announcing a 100,000-byte body and then a byte a second, while ``--probes``
new clients each send GET /health (answered, median and max latency); the server's RSS
after both.

Run: ``python bench/server_choice.py --help``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DISTILLED, ROOT, distilled_present, load_requests, print_machine, start_shim
from shim_soak import rss_mb

SLOW_HEAD = (
    b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{"
)


def make_app() -> Any:
    """The shim's Flask app and engine from ``SHIM_BENCH_ARGS`` (granian's factory)."""
    from inference_shim.app import create_app
    from inference_shim.config import settings_from_argv
    from inference_shim.loading import build_engine
    from inference_shim.metrics import Metrics

    settings = settings_from_argv(shlex.split(os.environ["SHIM_BENCH_ARGS"]))
    metrics = Metrics()
    engine = build_engine(settings, metrics=metrics)
    engine.wait_ready()
    return create_app(settings, engine=engine, metrics=metrics)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_granian(serve_args: list[str], threads: int) -> tuple[subprocess.Popen[str], str]:
    import httpx

    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([os.environ["GRANIAN_PATH"], str(ROOT), str(ROOT / "bench")]),
        "HF_HUB_OFFLINE": "1",
        "SHIM_BENCH_ARGS": shlex.join(serve_args),
    }
    proc = subprocess.Popen(
        [
            sys.executable,
            *("-m", "granian", "--interface", "wsgi", "--factory", "--workers", "1"),
            *("--blocking-threads", str(threads), "--host", "127.0.0.1", "--port", str(port)),
            *("--http", "1", "--http1-header-read-timeout", "10000", "--no-access-log"),
            "server_choice:make_app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(url + "/ready", timeout=10).status_code == 200:
                return proc, url
        time.sleep(0.5)
    proc.kill()
    raise RuntimeError("granian did not start")


def _serving_pid(proc: subprocess.Popen[str]) -> int:
    """The process holding the model: granian's worker (a child), else ``proc`` itself."""
    children = Path(f"/proc/{proc.pid}/task/{proc.pid}/children")
    pids = children.read_text().split() if children.exists() else []
    return int(pids[0]) if pids else proc.pid


def throughput(url: str, reqs: list[tuple[str, list[str]]], clients: int, seconds: float) -> str:
    import httpx

    done = {"pairs": 0, "errors": 0, "non200": 0}
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(k: int) -> None:
        rng = random.Random(k)
        with httpx.Client(base_url=url, timeout=120) as c:
            while time.monotonic() < stop:
                query, texts = rng.choice(reqs)
                try:
                    r = c.post("/rerank", json={"query": query, "texts": texts})
                except httpx.TransportError:
                    with lock:
                        done["errors"] += 1
                    continue
                with lock:
                    if r.status_code == 200:
                        done["pairs"] += len(texts)
                    else:
                        done["non200"] += 1
                if r.status_code == 429:
                    time.sleep(float(r.headers.get("Retry-After", "1")))

    start = time.monotonic()
    threads = [threading.Thread(target=client, args=(k,)) for k in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.monotonic() - start
    return (
        f"{done['pairs'] / wall:.1f} pairs/s ({done['non200']} non-200, "
        f"{done['errors']} transport errors)"
    )


def slow_bodies(url: str, count: int, probes: int) -> str:
    import httpx

    host, port = url.rsplit("//", 1)[1].split(":")
    socks = []
    for _ in range(count):
        sock = socket.create_connection((host, int(port)), timeout=10)
        sock.sendall(SLOW_HEAD)
        socks.append(sock)
    stop = threading.Event()

    def drip() -> None:
        while not stop.wait(1.0):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(b" ")

    feeder = threading.Thread(target=drip, daemon=True)
    feeder.start()
    latencies = []
    try:
        time.sleep(2.0)
        for _ in range(probes):
            t0 = time.perf_counter()
            with contextlib.suppress(httpx.TransportError):
                if httpx.get(url + "/health", timeout=15).status_code == 200:
                    latencies.append(time.perf_counter() - t0)
    finally:
        stop.set()
        feeder.join()
        for sock in socks:
            sock.close()
    latencies.sort()
    shown = (
        f", median {1000 * latencies[len(latencies) // 2]:.0f} ms, max "
        f"{1000 * latencies[-1]:.0f} ms"
        if latencies
        else ""
    )
    return f"{len(latencies)}/{probes} probes answered{shown}"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--passages", type=int, default=20)
    parser.add_argument("--slow", type=int, default=1000)
    parser.add_argument("--probes", type=int, default=10)
    args = parser.parse_args(argv)
    if not distilled_present():
        return 0
    print_machine()
    reqs, source = load_requests(200, args.passages, seed=5)
    serve_args = ["--model", str(DISTILLED), "--device", "cpu"]
    servers = ["waitress"]
    if os.environ.get("GRANIAN_PATH"):
        servers.append("granian")
    else:
        print("granian skipped: set GRANIAN_PATH to a directory where it is installed")
    print(
        f"model {DISTILLED.name}; throughput: {args.concurrency} clients x {args.passages} "
        f"passages ({source}), {args.seconds:.0f} s; {args.slow} slow-body connections"
    )
    for name in servers:
        load = os.getloadavg()[0]
        if name == "waitress":
            proc, url = start_shim(serve_args)
        else:
            proc, url = start_granian(serve_args, threads=64 + 4)
        try:
            rate = throughput(url, reqs, args.concurrency, args.seconds)
            slow = slow_bodies(url, args.slow, args.probes)
            rss = rss_mb(_serving_pid(proc))
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        print(
            f"{name}: {rate}; beside slow bodies: {slow}; RSS {rss:.0f} MB; load average "
            f"(1 min) {load:.2f} -> {os.getloadavg()[0]:.2f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
