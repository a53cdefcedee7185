"""Connections and shutdown of the shim with the distilled cross-encoder (``make bench
BENCH=reliability``): probe latency with no flood, with 300 idle keep-alive connections
and with 110 slow-header (slowloris) connections, interleaved; new clients beside 1,000
slow-body and 1,000 slow-header connections (re-opened as the server closes them) at the
default cap of 1,000 connections (``--only-cap``: this part alone, printed, RELIABILITY.md
left as it is); then SIGTERM under load
(concurrency 32, 100 MS MARCO passages per request, keep-alive clients): every request
sent before the signal answered, what came after refused, exit status and drain time.
Writes the figures under "## Connections and shutdown" in RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlsplit

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import DISTILLED, ROOT, load_requests, machine, start_shim, write_section

HEADING = "## Connections and shutdown"
PROBE_TIMEOUT_S = 30.0
AT_CAP = 1000  # the default --max-connections
CAP_PROBES = 10
SLOW_BODY = (
    b"POST /rerank HTTP/1.1\r\nHost: shim\r\nContent-Type: application/json\r\n"
    b"Content-Length: 100000\r\n\r\n{"
)
SLOW_HEADER = b"GET /health HTTP/1.1\r\nHost: shim\r\n"


def _address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def _get(addr: tuple[str, int], timeout: float) -> bytes:
    with socket.create_connection(addr, timeout=timeout) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: shim\r\n\r\n")
        return sock.recv(4096)


def _idle_flood(addr: tuple[str, int], n: int) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(addr, timeout=PROBE_TIMEOUT_S)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: shim\r\n\r\n")
        sock.recv(4096)
        socks.append(sock)
    return socks


def _slow_flood(addr: tuple[str, int], n: int, stop: threading.Event) -> list[socket.socket]:
    socks = []
    for _ in range(n):
        sock = socket.create_connection(addr, timeout=PROBE_TIMEOUT_S)
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: shim\r\n")
        socks.append(sock)

    def trickle() -> None:
        while not stop.wait(1.0):
            for sock in socks:
                with contextlib.suppress(OSError):
                    sock.sendall(b"X-Slow: 1\r\n")

    threading.Thread(target=trickle, daemon=True).start()
    return socks


class _SlowAtTheCap:
    """``n`` connections that send ``head``, then ``drip`` every 5 s; one the server closes
    is opened again at once (as an attacker would)."""

    def __init__(self, addr: tuple[str, int], n: int, head: bytes, drip: bytes) -> None:
        self.addr, self.head, self.drip = addr, head, drip
        self.reopened = 0
        self.socks = [self._open() for _ in range(n)]
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._feed, daemon=True)
        self.thread.start()

    def _open(self) -> socket.socket | None:
        try:
            sock = socket.create_connection(self.addr, timeout=PROBE_TIMEOUT_S)
            sock.sendall(self.head)
            return sock
        except OSError:
            return None

    def _feed(self) -> None:
        while not self.stop.wait(5.0):
            for k, sock in enumerate(self.socks):
                try:
                    if sock is None:
                        raise OSError
                    sock.sendall(self.drip)
                except OSError:
                    if sock is not None:
                        sock.close()
                    if not self.stop.is_set():
                        self.socks[k] = self._open()
                        self.reopened += 1

    def close(self) -> None:
        self.stop.set()
        self.thread.join()
        for sock in self.socks:
            if sock is not None:
                sock.close()


def slow_at_the_cap(model: str) -> dict[str, str]:
    """New clients' GET /health beside AT_CAP slow connections of each kind."""
    import resource

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 4 * AT_CAP)), hard))
    proc, url = start_shim(["--model", model, "--device", "cpu"])
    addr = _address(url)
    out = {}
    try:
        kinds = [
            (
                "slow body (complete headers, Content-Length 100000, a byte every 5 s)",
                SLOW_BODY,
                b" ",
            ),
            ("slow header (a header line every 5 s)", SLOW_HEADER, b"X-Slow: 1\r\n"),
        ]
        for name, head, drip in kinds:
            flood = _SlowAtTheCap(addr, AT_CAP, head, drip)
            times = []
            try:
                for _ in range(CAP_PROBES):  # over 40 s: slow headers are closed, re-opened
                    time.sleep(4.0)
                    times.append(_probe(url, None))
            finally:
                flood.close()
            answered = sum(t != float("inf") for t in times)
            out[f"{AT_CAP} {name}"] = (
                f"{answered}/{CAP_PROBES} new clients answered ({_fmt_s(times)}); "
                f"{flood.reopened} slow connections re-opened after the server closed them"
            )
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return out


def _probe(url: str, body: bytes | None) -> float:
    """Seconds for a fresh client's 10-passage rerank, or its GET /health when ``body`` is
    None (inf: no answer within the timeout)."""
    import httpx

    t0 = time.perf_counter()
    try:
        if body is None:
            r = httpx.get(url + "/health", timeout=PROBE_TIMEOUT_S)
        else:
            r = httpx.post(
                url + "/rerank",
                content=body,
                headers={"Content-Type": "application/json"},
                timeout=PROBE_TIMEOUT_S,
            )
        ok = r.status_code == 200
    except httpx.HTTPError:
        ok = False
    return time.perf_counter() - t0 if ok else float("inf")


def _probes(url: str, body: bytes, into: dict[str, list[float]], condition: str) -> None:
    into.setdefault(f"{condition}: GET /health", []).append(_probe(url, None))
    into.setdefault(f"{condition}: 10-passage rerank", []).append(_probe(url, body))


def connection_flood(model: str, rounds: int) -> dict[str, object]:
    reqs, _ = load_requests(1, 10, seed=7)
    body = json.dumps({"query": reqs[0][0], "texts": reqs[0][1]}).encode()
    proc, url = start_shim(["--model", model, "--device", "cpu", "--header-timeout", "10"])
    addr = _address(url)
    results: dict[str, list[float]] = {}
    try:
        _probe(url, body)  # warm
        for _ in range(rounds):  # interleaved: each condition once per round
            _probes(url, body, results, "none")
            idle = _idle_flood(addr, 300)
            _probes(url, body, results, "300 idle keep-alive")
            for sock in idle:
                sock.close()
            stop = threading.Event()
            slow = _slow_flood(addr, 110, stop)
            time.sleep(1.0)
            _probes(url, body, results, "110 slowloris")
            stop.set()
            for sock in slow:
                sock.close()
        # Slow-header connections are closed by the server after --header-timeout 10 s.
        stop = threading.Event()
        slow = _slow_flood(addr, 110, stop)
        t0 = time.perf_counter()
        closed = 0
        for sock in slow:
            sock.settimeout(max(0.1, 30 - (time.perf_counter() - t0)))
            try:
                closed += sock.recv(1) == b""
            except TimeoutError:
                pass
            except OSError:  # reset: closed while the trickle still wrote
                closed += 1
        closed_after = time.perf_counter() - t0
        stop.set()
        for sock in slow:
            sock.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    return {
        "probes": results,
        "slowloris closed by server": f"{closed}/110 within {closed_after:.1f} s",
    }


def sigterm_under_load(
    model: str, load_s: float, concurrency: int, passages: int, drain_s: float, max_queue: int
) -> dict:
    import httpx

    reqs, source = load_requests(200, passages, seed=11)
    proc, url = start_shim(
        [
            *("--model", model, "--device", "cpu"),
            *("--drain-timeout", str(drain_s), "--max-queue", str(max_queue)),
        ]
    )
    signalled = threading.Event()
    stats: Counter[str] = Counter()
    lock = threading.Lock()
    close_headers = Counter[str]()

    def client(k: int) -> None:
        with httpx.Client(base_url=url, timeout=drain_s + 120) as c:
            i = k
            while True:
                q, texts = reqs[i % len(reqs)]
                i += concurrency
                before = not signalled.is_set()
                try:
                    r = c.post("/rerank", json={"query": q, "texts": texts})
                except httpx.TransportError as e:
                    with lock:
                        what = "LOST: sent before" if before else "refused, sent after"
                        stats[f"{what} SIGTERM ({type(e).__name__})"] += 1
                    if signalled.is_set():
                        return
                    continue
                with lock:
                    key = "before" if before else "after"
                    stats[f"{r.status_code} sent {key} SIGTERM"] += 1
                    if signalled.is_set():
                        close_headers[r.headers.get("connection", "keep-alive")] += 1
                if r.status_code == 429:  # refused by --max-queue: wait as told
                    time.sleep(float(r.headers.get("retry-after", "1")))

    threads = [threading.Thread(target=client, args=(k,)) for k in range(concurrency)]
    for t in threads:
        t.start()
    time.sleep(load_s)
    load = os.getloadavg()[0]
    signalled.set()
    t_signal = time.perf_counter()
    proc.send_signal(signal.SIGTERM)
    try:
        code: int | str = proc.wait(drain_s + 60)
    except subprocess.TimeoutExpired:
        proc.kill()
        code = f"did not exit within --drain-timeout + 60 s (killed, {proc.wait()})"
    drain_took = time.perf_counter() - t_signal
    for t in threads:
        t.join(60)
    return {
        "source": source,
        "exit status": code,
        "SIGTERM to exit (s)": round(drain_took, 1),
        "load average (1 min) at SIGTERM": round(load, 2),
        "requests": dict(sorted(stats.items())),
        "Connection header on answers after SIGTERM": dict(close_headers),
    }


def _fmt_s(values: list[float]) -> str:
    finite = [v for v in values if v != float("inf")]
    lost = len(values) - len(finite)
    if not finite:
        return f"all {lost} timed out ({PROBE_TIMEOUT_S:.0f} s)"
    text = f"median {statistics.median(finite) * 1000:.0f} ms, max {max(finite) * 1000:.0f} ms"
    return text + (f", {lost} timed out" if lost else "")


def report(
    info: dict[str, str], flood: dict, cap: dict[str, str], term: dict, args: argparse.Namespace
) -> str:
    lines = [
        HEADING,
        "",
        "`make bench BENCH=reliability` (bench/reliability.py), model "
        f"`{os.path.relpath(args.model, ROOT)}` on CPU,",
        "the shim with its default settings (`--max-connections 1000`, `--idle-timeout 150`,",
        "`--max-queue 64`) and `--header-timeout 10` for the flood. Each probe is a new",
        "httpx client (its setup is part of the figure).",
        "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()) + ".",
        "",
        f"A fresh client's request, {args.rounds} rounds, the conditions interleaved:",
        "",
        "| open connections besides it: request | latency |",
        "|---|---|",
    ]
    probes = flood["probes"]
    for name, values in probes.items():
        finite = [v for v in values if v != float("inf")]
        base = probes.get("none" + name[name.index(":") :], [])
        ratio = ""
        if finite and not name.startswith("none") and base:
            ratio = f" ({statistics.median(finite) / statistics.median(base):.2f}x no flood)"
        lines.append(f"| {name} | {_fmt_s(values)}{ratio} |")
    lines += [
        "",
        f"Slow-header connections closed by the server: {flood['slowloris closed by server']}.",
        "",
        "At the cap (default settings, `--max-connections 1000`), new clients' GET /health:",
        "",
        *(f"- {k}: {v}" for k, v in cap.items()),
        "",
        f"SIGTERM after {args.load_seconds:.0f} s of load (`--drain-timeout "
        f"{args.drain_timeout:.0f} --max-queue {args.max_queue}`), concurrency "
        f"{args.concurrency}, "
        f"{args.passages} passages per request ({term['source']}), keep-alive clients that "
        "keep sending until refused:",
        "",
    ]
    lines += [f"- {k}: {v}" for k, v in term.items() if k != "source"]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DISTILLED))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--skip-flood", action="store_true", help="only SIGTERM under load")
    parser.add_argument(
        "--only-cap", action="store_true", help="only slow connections at the cap, printed"
    )
    parser.add_argument("--load-seconds", type=float, default=15.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--passages", type=int, default=100)
    parser.add_argument(
        "--drain-timeout",
        type=float,
        default=300.0,
        help="the shim's --drain-timeout under load: long enough for the queue this load "
        "builds on 2 shared cores (admission control bounds it otherwise)",
    )
    parser.add_argument(
        "--max-queue",
        type=int,
        default=4,
        help="the shim's --max-queue under load (the queue a drain must answer; the "
        "rest is refused with 429 and the clients wait Retry-After)",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    args = parser.parse_args()
    if not Path(args.model).is_dir():
        print(f"skipped: the distilled model is absent ({args.model})")
        return 0
    info = machine()
    cap = slow_at_the_cap(args.model)
    print(json.dumps(cap, indent=1), flush=True)
    if args.only_cap:
        print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
        print(f"load average (1 min) at the end: {os.getloadavg()[0]:.2f}")
        return 0
    flood = (
        {"probes": {}, "slowloris closed by server": "not run"}
        if args.skip_flood
        else connection_flood(args.model, args.rounds)
    )
    print(json.dumps(flood, indent=1, default=str), flush=True)
    term = sigterm_under_load(
        args.model,
        args.load_seconds,
        args.concurrency,
        args.passages,
        args.drain_timeout,
        args.max_queue,
    )
    print(json.dumps(term, indent=1))
    text = report(info, flood, cap, term, args)
    write_section(args.out, HEADING, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
