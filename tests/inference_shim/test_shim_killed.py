"""A shim killed (SIGKILL) while ``ShimReranker`` waits: the caller gets a clear error
within its timeout, never a hang; with retries, the call reaches a shim restarted on the
same port."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from es_rerank import RerankError, ShimReranker
from tests.helpers.shim import ShimProcess
from tests.inference_shim.scorers import overlap

pytestmark = pytest.mark.slow

TEXTS = ["berlin is a city", "paris", "berlin berlin"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _kill_after(shim: ShimProcess, seconds: float, then: threading.Event) -> None:
    def run() -> None:
        time.sleep(seconds)  # the slow scorer holds the request for 2 s
        shim.proc.kill()
        shim.proc.wait(10)
        then.set()

    threading.Thread(target=run, daemon=True).start()


def test_a_killed_shim_is_a_clear_error_within_the_timeout() -> None:
    shim = ShimProcess(["--scorer", "tests.inference_shim.scorers:slow"])
    killed = threading.Event()
    reranker = ShimReranker(shim.url, timeout=20.0, retries=0)
    _kill_after(shim, 0.7, killed)
    t0 = time.monotonic()
    with pytest.raises(RerankError) as info:
        reranker.rerank("berlin", TEXTS)
    waited = time.monotonic() - t0
    assert killed.wait(10)  # it failed because the shim died
    assert shim.url in str(info.value) and "1 attempt" in str(info.value)
    assert waited < 20.0  # the connection's end is noticed, not waited out to the timeout


def test_retries_reach_a_shim_restarted_on_the_same_port() -> None:
    port = _free_port()
    first = ShimProcess(["--scorer", "tests.inference_shim.scorers:slow", "--port", str(port)])
    killed = threading.Event()
    restarted: list[ShimProcess] = []

    def restart() -> None:
        killed.wait(30)
        restarted.append(
            ShimProcess(["--scorer", "tests.inference_shim.scorers:overlap", "--port", str(port)])
        )

    reranker = ShimReranker(first.url, timeout=20.0, retries=8, backoff=0.25)
    _kill_after(first, 0.7, killed)
    restarter = threading.Thread(target=restart, daemon=True)
    restarter.start()
    try:
        scores = reranker.rerank("berlin", TEXTS)
    finally:
        # The call can be answered before the restarted shim's /ready poll has returned.
        restarter.join(60)
        for shim in restarted:
            assert shim.terminate() == 0
    assert restarted and restarted[0].url == first.url
    assert scores == pytest.approx(overlap("berlin", TEXTS), abs=1e-6)
