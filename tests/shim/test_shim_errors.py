"""Every bad input gets a 4xx JSON error over real HTTP, and the server stays up."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest

from tests.shim.server_proc import ShimProcess

OK = {"query": "berlin", "texts": ["berlin city", "paris"]}


@pytest.fixture(scope="module")
def strict_shim() -> Iterator[ShimProcess]:
    """Scorer server with small limits and an API key."""
    shim = ShimProcess(
        [
            "--scorer",
            "tests.shim.scorers:overlap",
            "--max-client-batch-size",
            "5",
            "--max-text-chars",
            "50",
            "--max-payload-bytes",
            "2000",
        ],
        env={"SHIM_API_KEY": "s3cret"},
    )
    yield shim
    assert shim.terminate() == 0


AUTH = {"Authorization": "Bearer s3cret"}

# (name, method, path, raw body, expected status, expected error_type)
CASES: list[tuple[str, str, str, bytes | None, int, str]] = [
    ("invalid json", "POST", "/rerank", b'{"query": "x", ', 400, "Validation"),
    ("non-utf8", "POST", "/rerank", b'{"query": "\xff\xfe", "texts": ["a"]}', 400, "Validation"),
    ("empty body", "POST", "/rerank", b"", 400, "Validation"),
    ("NaN literal", "POST", "/scores/normalize", b'{"scores": [NaN]}', 400, "Validation"),
    ("array body", "POST", "/rerank", b'["berlin"]', 422, "Validation"),
    ("query not a string", "POST", "/rerank", b'{"query": 3, "texts": ["a"]}', 422, "Validation"),
    ("missing query", "POST", "/rerank", b'{"texts": ["a"]}', 422, "Validation"),
    ("empty query", "POST", "/rerank", b'{"query": " ", "texts": ["a"]}', 400, "Empty"),
    ("texts a string", "POST", "/rerank", b'{"query": "q", "texts": "a"}', 422, "Validation"),
    (
        "text not a string",
        "POST",
        "/rerank",
        b'{"query": "q", "texts": ["a", 1]}',
        422,
        "Validation",
    ),
    ("empty texts", "POST", "/rerank", b'{"query": "q", "texts": []}', 400, "Empty"),
    ("missing texts", "POST", "/rerank", b'{"query": "q"}', 422, "Validation"),
    (
        "too many texts",
        "POST",
        "/rerank",
        json.dumps({"query": "q", "texts": ["a"] * 6}).encode(),
        422,
        "Validation",
    ),
    (
        "text too long",
        "POST",
        "/rerank",
        json.dumps({"query": "q", "texts": ["a" * 51]}).encode(),
        422,
        "Validation",
    ),
    (
        "query too long",
        "POST",
        "/rerank",
        json.dumps({"query": "q" * 51, "texts": ["a"]}).encode(),
        422,
        "Validation",
    ),
    (
        "payload too large",
        "POST",
        "/rerank",
        json.dumps({"query": "q", "texts": ["a" * 40] * 100}).encode(),
        413,
        "PayloadTooLarge",
    ),
    (
        "top_n zero",
        "POST",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "top_n": 0}',
        422,
        "Validation",
    ),
    (
        "top_n string",
        "POST",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "top_n": "2"}',
        422,
        "Validation",
    ),
    (
        "top_n bool",
        "POST",
        "/v2/rerank",
        b'{"query": "q", "documents": ["a"], "top_n": true}',
        422,
        "Validation",
    ),
    (
        "raw_scores type",
        "POST",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "raw_scores": 1}',
        422,
        "Validation",
    ),
    (
        "bad score_mode",
        "POST",
        "/inference/rerank",
        b'{"query": "q", "input": ["a"], "score_mode": "softmax"}',
        422,
        "Validation",
    ),
    (
        "bad direction",
        "POST",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "truncation_direction": "Up"}',
        422,
        "Validation",
    ),
    (
        "cohere bad document",
        "POST",
        "/v1/rerank",
        b'{"query": "q", "documents": [{"txt": "a"}]}',
        422,
        "Validation",
    ),
    (
        "inference empty input",
        "POST",
        "/inference/rerank",
        b'{"query": "q", "input": []}',
        400,
        "Empty",
    ),
    ("scores not numbers", "POST", "/scores/normalize", b'{"scores": ["1"]}', 422, "Validation"),
    ("scores overflow", "POST", "/scores/normalize", b'{"scores": [1e400]}', 422, "Validation"),
    ("denormalize zero", "POST", "/scores/denormalize", b'{"scores": [0]}', 422, "Validation"),
    ("far too large", "POST", "/rerank", b"[" * 100000 + b"]" * 100000, 413, "PayloadTooLarge"),
    ("unknown route", "POST", "/rerank/v3", b"{}", 404, "NotFound"),
    ("wrong method", "GET", "/rerank", None, 405, "MethodNotAllowed"),
    ("wrong method on info", "POST", "/info", b"{}", 405, "MethodNotAllowed"),
]


@pytest.mark.parametrize(("name", "method", "path", "body", "status", "etype"), CASES)
def test_bad_input(
    strict_shim: ShimProcess,
    name: str,
    method: str,
    path: str,
    body: bytes | None,
    status: int,
    etype: str,
) -> None:
    with strict_shim.client(headers=AUTH) as c:
        r = c.request(method, path, content=body, headers={"Content-Type": "application/json"})
        assert r.status_code == status, (name, r.text)
        doc = r.json()
        assert set(doc) == {"error", "error_type"}
        assert doc["error_type"] == etype and doc["error"]
        assert c.post("/rerank", json=OK).status_code == 200  # still serving


def test_api_key(strict_shim: ShimProcess) -> None:
    with strict_shim.client() as c:
        missing = c.post("/rerank", json=OK)
        wrong = c.post("/rerank", json=OK, headers={"Authorization": "Bearer s3cre"})
        basic = c.post("/rerank", json=OK, headers={"Authorization": "Basic s3cret"})
        right = c.post("/rerank", json=OK, headers=AUTH)
        unknown = c.post("/nowhere", json=OK)
        open_routes = [c.get(p).status_code for p in ("/health", "/ready", "/info", "/metrics")]
    for r in (missing, wrong, basic, unknown):
        assert r.status_code == 401
        assert r.json()["error_type"] == "Unauthorized"
        assert r.headers["WWW-Authenticate"] == "Bearer"
    assert right.status_code == 200
    assert open_routes == [200, 200, 200, 200]


def test_protect_info() -> None:
    shim = ShimProcess(
        ["--scorer", "tests.shim.scorers:overlap", "--api-key", "k", "--protect-info"],
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
    shim = ShimProcess(["--scorer", f"tests.shim.scorers:{scorer}"])
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


def test_deeply_nested_json(scorer_shim: ShimProcess) -> None:
    body = b'{"query": ' + b"[" * 50000 + b"]" * 50000 + b', "texts": ["a"]}'
    with scorer_shim.client() as c:
        r = c.post("/rerank", content=body)
        assert r.status_code == 400
        assert r.json()["error_type"] == "Validation"
        assert c.get("/health").status_code == 200
