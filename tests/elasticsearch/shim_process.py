"""``inference-shim serve`` in a subprocess listening on 0.0.0.0, so a cluster in Docker or
on another machine can call it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("0.0.0.0", 0))
        return int(s.getsockname()[1])


class ShimOnAllInterfaces:
    def __init__(self, args: Sequence[str], *, api_key: str | None = None) -> None:
        self.port = int(os.environ.get("ES_RERANK_SHIM_PORT") or free_port())
        extra = ["--api-key", api_key] if api_key else []
        # ES's hugging_face and cohere services ask for no score mode, and those routes answer
        # sigmoid by default (TEI's and Cohere's convention): the scorers' raw scores reach
        # the cluster as they are only with --score-mode raw.
        extra += ["--score-mode", "raw"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inference_shim", "serve", "--host", "0.0.0.0",
             "--port", str(self.port), *extra, *args],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(
                    f"shim exited: {self.proc.stderr.read() if self.proc.stderr else ''}"
                )
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/ready", timeout=2).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError("shim never became ready")

    def url_for(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
