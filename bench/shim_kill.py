"""A shim killed (SIGKILL) while ``ShimReranker`` waits, with the distilled model.

1. ``retries=0``: how long after the kill the caller gets its error, and the error.
2. ``retries=8``: the shim is killed mid-request and started again on the same port; how
   long after the kill the call is answered, and whether the scores equal those of a call
   to a healthy shim.

Writes the figures under "## A killed shim" in RELIABILITY.md.
"""

from __future__ import annotations

import argparse
import socket
import sys
import threading
import time
from pathlib import Path

from common import DISTILLED, ROOT, load_requests, machine, start_shim, write_section

from es_rerank import RerankError, ShimReranker

HEADING = "## A killed shim"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _kill_later(proc: object, after_s: float, killed_at: list[float]) -> None:
    def run() -> None:
        time.sleep(after_s)
        killed_at.append(time.monotonic())
        proc.kill()  # type: ignore[attr-defined]
        proc.wait(30)  # type: ignore[attr-defined]

    threading.Thread(target=run, daemon=True).start()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default=str(DISTILLED))
    parser.add_argument("--passages", type=int, default=100)
    parser.add_argument("--kill-after", type=float, default=1.0, help="seconds into the call")
    parser.add_argument("--out", type=Path, default=ROOT / "RELIABILITY.md")
    args = parser.parse_args()
    if not Path(args.model).is_dir():
        print(f"skipped: the distilled model is absent ({args.model})")
        return 0
    info = machine()
    (request,), source = load_requests(1, args.passages, seed=7)
    query, texts = request
    serve = ["--model", args.model, "--score-mode", "raw"]

    port = _free_port()
    proc, url = start_shim([*serve, "--port", str(port)])
    reference = ShimReranker(url, timeout=300.0).rerank(query, texts)  # a healthy answer

    killed_at: list[float] = []
    _kill_later(proc, args.kill_after, killed_at)
    try:
        ShimReranker(url, timeout=300.0, retries=0).rerank(query, texts)
        error = "none: the call was answered before the kill (raise --passages)"
    except RerankError as exc:
        error = str(exc)
    error_after = time.monotonic() - killed_at[0]

    proc, url = start_shim([*serve, "--port", str(port)])
    killed_at.clear()
    restarted: list[object] = []
    restart_s: list[float] = []

    def restart() -> None:
        while not killed_at:
            time.sleep(0.05)
        t0 = time.monotonic()
        restarted.append(start_shim([*serve, "--port", str(port)])[0])
        restart_s.append(time.monotonic() - t0)

    _kill_later(proc, args.kill_after, killed_at)
    threading.Thread(target=restart, daemon=True).start()
    retrying = ShimReranker(url, timeout=300.0, retries=8, backoff=0.5)
    scores = retrying.rerank(query, texts)
    answered_after = time.monotonic() - killed_at[0]
    for p in restarted:
        p.terminate()  # type: ignore[attr-defined]
        p.wait(60)  # type: ignore[attr-defined]
    same = max(abs(a - b) for a, b in zip(scores, reference, strict=True))

    lines = [
        HEADING,
        "",
        f"`make bench BENCH=kill` (`bench/shim_kill.py`): `{args.model}` (torch fp32), one "
        f"request of {args.passages} passages ({source}); the shim is SIGKILLed "
        f"{args.kill_after:g} s into the call.",
        "",
        "Machine: " + "; ".join(f"{k} {v}" for k, v in info.items()),
        "",
        f"- `retries=0`: the caller's error came {error_after:.2f} s after the kill: {error}",
        f"- `retries=8`, the shim started again on the same port: the call was answered "
        f"{answered_after:.1f} s after the kill (the new shim took {restart_s[0]:.1f} s to "
        f"start and load the model); largest score difference from a healthy shim's "
        f"answer: {same:.2g}",
        "",
    ]
    text = "\n".join(lines)
    write_section(args.out, HEADING, text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
