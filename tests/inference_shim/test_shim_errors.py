"""Authorization, backend failures and non-HTTP bytes over real HTTP (the bad-input battery
is test_shim_battery.py)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.helpers.shim import ShimProcess

pytestmark = pytest.mark.slow

OK = {"query": "berlin", "texts": ["berlin city", "paris"]}


@pytest.fixture(scope="module")
def strict_shim() -> Iterator[ShimProcess]:
    """Scorer server with an API key."""
    shim = ShimProcess(
        ["--scorer", "tests.inference_shim.scorers:overlap"], env={"SHIM_API_KEY": "s3cret"}
    )
    yield shim
    assert shim.terminate() == 0


AUTH = {"Authorization": "Bearer s3cret"}


def test_api_key(strict_shim: ShimProcess) -> None:
    with strict_shim.client() as c:
        missing = c.post("/rerank", json=OK)
        wrong = c.post("/rerank", json=OK, headers={"Authorization": "Bearer s3cre"})
        basic = c.post("/rerank", json=OK, headers={"Authorization": "Basic s3cret"})
        right = c.post("/rerank", json=OK, headers=AUTH)
        unknown = c.post("/nowhere", json=OK)
        open_routes = [c.get(p).status_code for p in ("/health", "/ready", "/metrics")]
        # /info names the model and the limits: behind the key, as in TEI.
        info_without_key = c.get("/info")
        info = c.get("/info", headers=AUTH)
    for r in (missing, wrong, basic, unknown, info_without_key):
        assert r.status_code == 401
        assert r.json()["error_type"] == "Unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert right.status_code == 200
    assert open_routes == [200, 200, 200]
    assert info.status_code == 200
    assert info.json()["model_id"] == "tests.inference_shim.scorers:overlap"


def test_protect_info() -> None:
    shim = ShimProcess(
        ["--scorer", "tests.inference_shim.scorers:overlap", "--api-key", "k", "--protect-info"],
        ready_headers={"Authorization": "Bearer k"},
    )
    try:
        with shim.client() as c:
            closed = [c.get(p).status_code for p in ("/health", "/info", "/metrics")]
            opened = c.get("/info", headers={"Authorization": "Bearer k"}).status_code
    finally:
        assert shim.terminate() == 0
    assert closed == [401, 401, 401]
    assert opened == 200


@pytest.mark.parametrize(
    ("scorer", "needle"),
    [("wrong_length", "1 scores for 2 texts"), ("crash", "scorer failed on purpose")],
)
def test_backend_errors_are_424(scorer: str, needle: str) -> None:
    shim = ShimProcess(["--scorer", f"tests.inference_shim.scorers:{scorer}"])
    try:
        with shim.client() as c:
            r = c.post("/rerank", json=OK)
            health = c.get("/health").status_code
    finally:
        assert shim.terminate() == 0
    assert r.status_code == 424
    assert r.json()["error_type"] == "Backend" and needle in r.json()["error"]
    assert health == 200


def test_raw_socket_garbage(strict_shim: ShimProcess) -> None:
    # A request line that is not HTTP at all must not hurt the server.
    import socket
    from urllib.parse import urlparse

    u = urlparse(strict_shim.url)
    with socket.create_connection((u.hostname, u.port), timeout=10) as s:
        s.sendall(b"\x00\x01garbage\r\n\r\n")
        s.recv(1024)
    assert httpx.get(strict_shim.url + "/health").status_code == 200
