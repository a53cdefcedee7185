"""Where the documentation's examples run: one scratch folder per page, beside a
``../shared`` link, with ``models/my-ce`` a tiny cross-encoder, the repository's code on
``PYTHONPATH`` and its commands on ``PATH``; the blocks of a page run in order in it."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from tests.docs.examples import ROOT, Example

TIMEOUT = 600
_DOCTEST = """
import doctest, sys
test = doctest.DocTestParser().get_doctest(sys.stdin.read(), {}, "example", "example", 0)
runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
runner.run(test)
sys.exit(1 if runner.failures else 0)
"""
_LOOPBACK = re.compile(r"(?:localhost|127\.0\.0\.1):808[01]")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def example_env(work: Path, cache: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ES_", "SHIM_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONPATH=f"{ROOT}{os.pathsep}{work}",
        ES_RERANK_CACHE=str(cache),
        HF_HUB_OFFLINE="1",
        KEY="docs-example-key",
    )
    return env


def wait_healthy(
    proc: subprocess.Popen[bytes], port: int, log: Path, *, path: str = "/health"
) -> None:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"the server exited with {proc.returncode}: {log.read_text()}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise AssertionError(f"no answer from 127.0.0.1:{port}{path} in {TIMEOUT} s")


def start_server(
    argv: list[str], env: dict[str, str], cwd: Path, log: Path
) -> subprocess.Popen[bytes]:
    """A server process whose output goes to ``log`` (a pipe could fill and block it)."""
    with log.open("wb") as out:
        return subprocess.Popen(argv, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT)


def stop_server(proc: subprocess.Popen[bytes]) -> int:
    proc.send_signal(signal.SIGTERM)
    try:
        return proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise


def commands(code: str) -> list[str]:
    """The commands of a shell block, each on one line (continuations joined)."""
    joined = code.replace("\\\n", " ")
    return [line.strip() for line in joined.splitlines() if line.strip()]


def shortened(code: str, args: str) -> str:
    out = []
    for line in code.replace("\\\n", " ").splitlines():
        if re.match(r"\s*es-rerank (eval|calibrate)\b", line):
            line = f"{line} {args}"
        out.append(line)
    return "\n".join(out) + "\n"


class PageSandbox:
    """The scratch folder of one page, and the runner of its blocks."""

    def __init__(self, base: Path, cache: Path, tiny_model: Path, shared: Path | None) -> None:
        self.work = base / "work"
        (self.work / "models").mkdir(parents=True)
        (self.work / "models" / "my-ce").symlink_to(tiny_model)
        if shared is not None:
            (base / "shared").symlink_to(shared)
        self.env = example_env(self.work, cache)
        self.shim_port: int | None = None

    def run(self, ex: Example) -> subprocess.CompletedProcess[str]:
        code = ex.code
        if "run-with" in ex.markers:
            assert self.shim_port is not None, "run-with: shim needs the shim started"
            code = _LOOPBACK.sub(f"127.0.0.1:{self.shim_port}", code)
        if "run-shortened" in ex.markers:
            code = shortened(code, ex.markers["run-shortened"])
        if ex.language == "sh":
            argv, stdin = ["bash", "-euo", "pipefail", "-c", code], None
        elif ex.is_doctest:
            argv, stdin = [sys.executable, "-c", _DOCTEST], code
        else:
            argv, stdin = [sys.executable, "-c", code], None
        try:
            return subprocess.run(
                argv,
                cwd=self.work,
                env=self.env,
                input=stdin,
                capture_output=True,
                text=True,
                timeout=TIMEOUT,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise AssertionError(f"{ex.id} ran past {TIMEOUT} s: {exc.stderr!r}") from exc

    def serve_each(self, ex: Example) -> None:
        """Start each command of a ``server`` block on a free port, wait, stop it."""
        for command in commands(ex.code):
            port = free_port()
            command = re.sub(r"--port \d+", f"--port {port}", command)
            env = {**self.env, "SHIM_PORT": str(port)}
            log = self.work / f"server-{port}.log"
            proc = start_server(["bash", "-c", command], env, self.work, log)
            try:
                wait_healthy(proc, port, log)
            finally:
                status = stop_server(proc)
            assert status == 0, (command, status, log.read_text())
