"""Infinity (``infinity-emb`` from PyPI) as a further peer, in its own throwaway virtual
environment under ``.cache/bench`` (never in the project's). Returns a running server, or
a one-line reason why it could not be installed or started here."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

from common import BENCH_CACHE

VENV = BENCH_CACHE / "infinity-venv"
STAMP = VENV / ".installed"
TORCH = "torch==2.13.0"  # the CPU build (pip's configured wheel sources), never CUDA
PACKAGE = "infinity-emb[server,torch]"


def _install() -> str | None:
    if STAMP.is_file():
        return None
    if VENV.exists():
        shutil.rmtree(VENV)
    steps = [
        [sys.executable, "-m", "venv", str(VENV)],
        [str(VENV / "bin" / "pip"), "install", "--quiet", TORCH],
        [str(VENV / "bin" / "pip"), "install", "--quiet", PACKAGE],
    ]
    for cmd in steps:
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        except subprocess.TimeoutExpired:
            return f"`{' '.join(cmd[-2:])}` did not finish in 15 minutes"
        if r.returncode != 0:
            lines = [x for x in r.stderr.splitlines() if x.strip() and "WARNING: Location" not in x]
            return f"`{' '.join(cmd[-2:])}` failed: {lines[-1] if lines else r.returncode}"
    STAMP.write_text(PACKAGE + "\n")
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_infinity(model: Path) -> tuple[subprocess.Popen[bytes], str, str] | str:
    """(process, base URL, label) of ``infinity_emb v2`` serving ``model`` on loopback, or
    the reason it is not available."""
    reason = _install()
    if reason:
        return reason
    import httpx

    port = _free_port()
    log = BENCH_CACHE / "infinity.log"
    cmd = [
        str(VENV / "bin" / "infinity_emb"),
        "v2",
        "--model-id",
        str(model),
        "--port",
        str(port),
        "--host",
        "127.0.0.1",
        "--engine",
        "torch",
        "--device",
        "cpu",
        "--batch-size",
        "32",
    ]
    env = {
        **os.environ,
        "HF_HUB_OFFLINE": "1",
        "INFINITY_ANONYMOUS_USAGE_STATS": "0",
        "DO_NOT_TRACK": "1",
    }
    with log.open("wb") as fh:
        proc = subprocess.Popen(cmd, stdout=fh, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            tail = [x for x in log.read_text(errors="replace").splitlines() if x.strip()][-1:]
            last = tail[0] if tail else ""
            return f"infinity_emb exited with {proc.returncode}: {last} (log: {log})"
        try:
            if httpx.get(url + "/health", timeout=2).status_code == 200:
                version = subprocess.run(
                    [
                        str(VENV / "bin" / "python"),
                        "-c",
                        "import infinity_emb; print(infinity_emb.__version__)",
                    ],
                    capture_output=True,
                    text=True,
                ).stdout.strip()
                return proc, url, f"{version} torch engine"
        except httpx.HTTPError:
            pass
        time.sleep(1)
    proc.terminate()
    return f"infinity_emb did not answer /health within 240 s (log: {log})"
