"""Start ``inference-shim serve`` as a real subprocess on a free loopback port."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Sequence

import httpx

from tests.helpers import ROOT


class ShimProcess:
    def __init__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        ready_headers: dict[str, str] | None = None,
    ) -> None:
        self.ready_headers = ready_headers or {}
        full_env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1", **(env or {})}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "inference_shim", "serve", "--port", "0", *args],
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
