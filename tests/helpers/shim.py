"""How tests start the inference shim: ``serve_shim`` (its app in this process),
``ShimProcess`` (``inference-shim serve`` as a subprocess; ``shim_for_cluster`` for a real
cluster) and ``run_shim`` (a ``serve`` that must exit)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import httpx

from tests.helpers import ROOT


def serve_command(args: Sequence[str], *, host: str = "127.0.0.1", port: int = 0) -> list[str]:
    return [
        sys.executable, "-m", "inference_shim", "serve",
        "--host", host, "--port", str(port), *args,
    ]  # fmt: skip


def run_shim(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    """``serve args`` run to its exit with only PATH and ``env`` (no SHIM_* of ours leaks)."""
    base = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        serve_command(args),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
    )


@contextmanager
def serve_shim(**settings: Any) -> Iterator[str]:
    """The base URL of the app for ``Settings(**settings)``, served in this process."""
    from werkzeug.serving import make_server

    from inference_shim.app import create_app
    from inference_shim.config import Settings
    from inference_shim.loading import build_engine

    config = Settings(**settings)
    engine = build_engine(config)
    server = make_server("127.0.0.1", 0, create_app(config, engine=engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        engine.close()


class ShimProcess:
    """``serve args`` in a subprocess, ready once constructed; ``env`` adds to ours."""

    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        ready_headers: dict[str, str] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.ready_headers = ready_headers or {}
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
        self.proc = subprocess.Popen(
            serve_command(args, host=host, port=port),
            cwd=ROOT,
            env=full_env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.stderr: list[str] = []
        threading.Thread(target=self._drain_stderr, daemon=True).start()
        try:
            self.url = self._wait_for_url()
        except BaseException:
            self.proc.kill()  # never leave a half-started server behind
            self.proc.wait(10)
            raise

    def _drain_stderr(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.stderr.append(line)

    def _drain_stdout(self) -> None:
        assert self.proc.stdout is not None
        for _ in self.proc.stdout:
            pass

    def _wait_for_url(self) -> str:
        assert self.proc.stdout is not None
        seen: list[str] = []
        for line in self.proc.stdout:
            if line.startswith("inference-shim listening on "):
                break
            seen.append(line)
        else:
            self.proc.wait(30)
            raise RuntimeError(f"server did not start: {seen} {''.join(self.stderr)}")
        url = line.rsplit(" ", 1)[1].strip()
        self.port = int(url.rsplit(":", 1)[1])
        url = f"http://127.0.0.1:{self.port}"  # even on 0.0.0.0
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if (
                    httpx.get(url + "/ready", timeout=5, headers=self.ready_headers).status_code
                    == 200
                ):
                    return url
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError("server never became ready: " + "".join(self.stderr))

    def url_for(self, host: str) -> str:
        return f"http://{host}:{self.port}"

    def client(self, **kwargs: object) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=60, **kwargs)  # type: ignore[arg-type]

    def terminate(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(10)


def shim_for_cluster(args: Sequence[str], *, api_key: str | None = None) -> ShimProcess:
    """On 0.0.0.0 (ES_RERANK_SHIM_PORT if set) for a cluster."""
    extra = ["--api-key", api_key] if api_key else []
    # ES's hugging_face and cohere services ask for no score mode, and those routes answer
    # sigmoid by default (TEI's and Cohere's convention): the scorers' raw scores reach the
    # cluster as they are only with --score-mode raw.
    extra += ["--score-mode", "raw"]
    port = int(os.environ.get("ES_RERANK_SHIM_PORT") or 0)
    return ShimProcess([*extra, *args], host="0.0.0.0", port=port)
