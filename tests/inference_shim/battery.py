"""A battery of hostile and malformed requests, each with the 4xx JSON error it must get.

The server under test (see ``test_shim_battery.py``) runs the tiny cross-encoder with the
API key ``s3cret``, at most 300 texts per request, 5,000 characters per text and the
default 2 MB payload limit; the cases are written against those limits.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import httpx

KEY = "s3cret"
MAX_TEXTS = 300
MAX_CHARS = 5000
AUTH = {"Authorization": f"Bearer {KEY}"}
JSON = {"Content-Type": "application/json"}
VALID = {"query": "berlin", "texts": ["berlin city", "paris"]}


@dataclass(frozen=True)
class Case:
    name: str
    method: str
    path: str
    body: bytes | None
    status: int
    error_type: str
    # A piece of the message that names the offending field or limit.
    needle: str = ""
    headers: list[tuple[str, str | bytes]] = field(
        default_factory=lambda: [*JSON.items(), *AUTH.items()]
    )

    def send(self, client: httpx.Client) -> httpx.Response:
        return client.request(self.method, self.path, content=self.body, headers=self.headers)


def j(obj: Any) -> bytes:
    """JSON as a client would send it (non-ASCII escaped, surrogates kept as escapes)."""
    return json.dumps(obj).encode()


def _post(name: str, path: str, body: bytes, status: int, etype: str, needle: str = "") -> Case:
    return Case(name, "POST", path, body, status, etype, needle)


def _bad(name: str, path: str, body: bytes, needle: str) -> Case:
    return _post(name, path, body, 422, "Validation", needle)


def _malformed(name: str, body: bytes, path: str = "/rerank") -> Case:
    return _post(name, path, body, 400, "Validation")


HUGE_DIGITS = b"9" * 5000
LONG_TEXT = "berlin " * 200  # far beyond the tiny model's 128 tokens, within 5,000 chars
LONE_HIGH = "\ud800"
LONE_LOW = "\udc00"

CASES: list[Case] = [
    # -- not JSON, or not UTF-8 ---------------------------------------------------------
    _malformed("truncated JSON", b'{"query": "x", '),
    _malformed("trailing garbage", b'{"query": "q", "texts": ["a"]} x'),
    _malformed("single quotes", b"{'query': 'q', 'texts': ['a']}"),
    _malformed("empty body", b""),
    _malformed("whitespace body", b"  \n "),
    _malformed("invalid UTF-8 byte", b'{"query": "\xff\xfe", "texts": ["a"]}'),
    _malformed("overlong UTF-8", b'{"query": "\xc0\xaf", "texts": ["a"]}'),
    _malformed("UTF-16 body", '{"query": "q", "texts": ["a"]}'.encode("utf-16")),
    _malformed("NaN literal", b'{"scores": [NaN]}', "/scores/normalize"),
    _malformed("Infinity literal", b'{"query": "q", "texts": ["a"], "top_n": Infinity}'),
    _malformed("raw NUL in a string", b'{"query": "q\x00", "texts": ["a"]}'),
    _malformed("raw newline in a string", b'{"query": "q\n", "texts": ["a"]}'),
    _malformed("deeply nested arrays", b'{"query": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"),
    _malformed("deeply nested objects", b'{"a":' * 20_000 + b"1" + b"}" * 20_000),
    # -- JSON of the wrong shape or type ------------------------------------------------
    _bad("array body", "/rerank", b'["berlin"]', "JSON object"),
    _bad("string body", "/rerank", b'"berlin"', "JSON object"),
    _bad("null body", "/inference/rerank", b"null", "JSON object"),
    _bad("number body", "/v2/rerank", b"42", "JSON object"),
    _bad("query a number", "/rerank", b'{"query": 3, "texts": ["a"]}', "query"),
    _bad("query null", "/rerank", b'{"query": null, "texts": ["a"]}', "query"),
    _bad("query missing", "/rerank", b'{"texts": ["a"]}', "query"),
    _bad("query a list", "/v1/rerank", b'{"query": ["q"], "documents": ["a"]}', "query"),
    _bad("texts missing", "/rerank", b'{"query": "q"}', "texts"),
    _bad("texts a string", "/rerank", b'{"query": "q", "texts": "a"}', "texts"),
    _bad("text a number", "/rerank", b'{"query": "q", "texts": ["a", 1]}', "texts[1]"),
    _bad("text an object", "/rerank", b'{"query": "q", "texts": [{"text": "a"}]}', "texts[0]"),
    _bad("text a list", "/rerank", b'{"query": "q", "texts": [["a"]]}', "texts[0]"),
    _bad(
        "raw_scores a number",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "raw_scores": 1}',
        "raw_scores",
    ),
    _bad(
        "return_text a string",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "return_text": "yes"}',
        "return_text",
    ),
    _bad(
        "truncate a string",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "truncate": "false"}',
        "truncate",
    ),
    _bad(
        "unknown score_mode",
        "/inference/rerank",
        b'{"query": "q", "input": ["a"], "score_mode": "softmax"}',
        "score_mode",
    ),
    _bad(
        "unknown truncation_direction",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "truncation_direction": "Up"}',
        "truncation_direction",
    ),
    _bad(
        "document without text",
        "/v1/rerank",
        b'{"query": "q", "documents": [{"txt": "a"}]}',
        "documents[0]",
    ),
    _bad(
        "document text a number",
        "/v2/rerank",
        b'{"query": "q", "documents": [{"text": 5}]}',
        "documents[0]",
    ),
    _bad("input a number", "/inference/rerank", b'{"query": "q", "input": 7}', "input"),
    _bad(
        "return_documents a number",
        "/inference/rerank",
        b'{"query": "q", "input": ["a"], "return_documents": 0}',
        "return_documents",
    ),
    _bad("scores strings", "/scores/normalize", b'{"scores": ["1"]}', "scores[0]"),
    _bad("scores booleans", "/scores/normalize", b'{"scores": [true]}', "scores[0]"),
    _bad("scores an object", "/scores/denormalize", b'{"scores": {"a": 1}}', "scores"),
    # -- numbers out of range -----------------------------------------------------------
    _bad("top_n zero", "/rerank", b'{"query": "q", "texts": ["a"], "top_n": 0}', "top_n"),
    _bad(
        "top_n negative", "/v2/rerank", b'{"query": "q", "documents": ["a"], "top_n": -1}', "top_n"
    ),
    _bad(
        "top_n 10**30",
        "/inference/rerank",
        j({"query": "q", "input": ["a"], "top_n": 10**30}),
        "top_n",
    ),
    _bad(
        "top_n 5000 digits",
        "/rerank",
        b'{"query": "q", "texts": ["a"], "top_n": ' + HUGE_DIGITS + b"}",
        "top_n",
    ),
    _bad(
        "top_n -5000 digits",
        "/v1/rerank",
        b'{"query": "q", "documents": ["a"], "top_n": -' + HUGE_DIGITS + b"}",
        "top_n",
    ),
    _bad("top_n a fraction", "/rerank", b'{"query": "q", "texts": ["a"], "top_n": 2.5}', "top_n"),
    _bad("top_n a string", "/rerank", b'{"query": "q", "texts": ["a"], "top_n": "2"}', "top_n"),
    _bad(
        "top_n a boolean",
        "/v2/rerank",
        b'{"query": "q", "documents": ["a"], "top_n": true}',
        "top_n",
    ),
    _bad(
        "scores 5000 digits",
        "/scores/normalize",
        b'{"scores": [' + HUGE_DIGITS + b"]}",
        "scores[0]",
    ),
    _bad("scores 1e400", "/scores/normalize", b'{"scores": [1, 1e400]}', "scores[1]"),
    _bad("scores -1e400", "/scores/denormalize", b'{"scores": [-1e400]}', "scores[0]"),
    _bad("denormalize zero", "/scores/denormalize", b'{"scores": [0.5, 0]}', "scores[1]"),
    _bad("denormalize negative", "/scores/denormalize", b'{"scores": [-1]}', "scores[0]"),
    # -- empty values -------------------------------------------------------------------
    _post("empty query", "/rerank", b'{"query": "", "texts": ["a"]}', 400, "Empty", "query"),
    _post(
        "blank query", "/v2/rerank", b'{"query": " \\t", "documents": ["a"]}', 400, "Empty", "query"
    ),
    _post("empty texts", "/rerank", b'{"query": "q", "texts": []}', 400, "Empty", "texts"),
    _post(
        "empty documents",
        "/v1/rerank",
        b'{"query": "q", "documents": []}',
        400,
        "Empty",
        "documents",
    ),
    _post(
        "empty input", "/inference/rerank", b'{"query": "q", "input": []}', 400, "Empty", "input"
    ),
    # -- sizes --------------------------------------------------------------------------
    _bad("10k texts", "/rerank", j({"query": "q", "texts": ["a"] * 10_000}), str(MAX_TEXTS)),
    _bad(
        "10k documents",
        "/v2/rerank",
        j({"query": "q", "documents": ["a"] * 10_000}),
        str(MAX_TEXTS),
    ),
    _bad("a 1 MB text", "/rerank", j({"query": "q", "texts": ["a", "b" * 1_000_000]}), "texts[1]"),
    _bad(
        "a 1 MB query", "/inference/rerank", j({"query": "q" * 1_000_000, "input": ["a"]}), "query"
    ),
    _post(
        "a 3 MB body",
        "/rerank",
        j({"query": "q", "texts": ["a" * 4000] * 750}),
        413,
        "PayloadTooLarge",
        "2000000",
    ),
    _post(
        "a 3 MB score list",
        "/scores/normalize",
        j({"scores": [0.125] * 500_000}),
        413,
        "PayloadTooLarge",
    ),
    # -- lone surrogates (valid JSON escapes, invalid Unicode) --------------------------
    _bad(
        "surrogate in a TEI text",
        "/rerank",
        j({"query": "q", "texts": ["a", LONE_HIGH]}),
        "texts[1]",
    ),
    _bad(
        "surrogate in a TEI text, return_text",
        "/rerank",
        j({"query": "q", "texts": [LONE_HIGH], "return_text": True}),
        "texts[0]",
    ),
    _bad(
        "surrogate in the query", "/rerank", j({"query": "q" + LONE_HIGH, "texts": ["a"]}), "query"
    ),
    _bad("lone low surrogate", "/rerank", j({"query": "q", "texts": [LONE_LOW + "x"]}), "texts[0]"),
    _bad(
        "reversed surrogate pair",
        "/rerank",
        j({"query": "q", "texts": [LONE_LOW + LONE_HIGH]}),
        "texts[0]",
    ),
    _bad(
        "surrogate in a Cohere document",
        "/v2/rerank",
        j({"query": "q", "documents": [LONE_HIGH]}),
        "documents[0]",
    ),
    _bad(
        "surrogate in a Cohere document object, return_documents",
        "/v1/rerank",
        j({"query": "q", "documents": [{"text": LONE_HIGH}], "return_documents": True}),
        "documents[0]",
    ),
    _bad(
        "surrogate in ES input",
        "/inference/rerank",
        j({"query": "q", "input": ["a", LONE_HIGH]}),
        "input[1]",
    ),
    _bad(
        "surrogate in ES single-string input, return_documents",
        "/inference/rerank",
        j({"query": "q", "input": LONE_HIGH, "return_documents": True}),
        "input",
    ),
    _bad(
        "surrogate in score_mode",
        "/inference/rerank",
        j({"query": "q", "input": ["a"], "score_mode": LONE_HIGH}),
        "score_mode",
    ),
    # -- over-long pairs without truncation ---------------------------------------------
    _bad(
        "truncate=false, over-long text",
        "/rerank",
        j({"query": "q", "texts": ["a", LONG_TEXT], "truncate": False}),
        "[1]",
    ),
    _bad(
        "truncate=false, over-long ES input",
        "/inference/rerank",
        j({"query": "q", "input": [LONG_TEXT], "truncate": False}),
        "[0]",
    ),
    # -- content type -------------------------------------------------------------------
    Case(
        "text/plain body",
        "POST",
        "/rerank",
        j(VALID),
        415,
        "UnsupportedMediaType",
        "application/json",
        [("Content-Type", "text/plain"), *AUTH.items()],
    ),
    Case(
        "no Content-Type",
        "POST",
        "/inference/rerank",
        j({"query": "q", "input": ["a"]}),
        415,
        "UnsupportedMediaType",
        "application/json",
        list(AUTH.items()),
    ),
    Case(
        "form-encoded body",
        "POST",
        "/v2/rerank",
        b"query=q&documents=a",
        415,
        "UnsupportedMediaType",
        "application/json",
        [("Content-Type", "application/x-www-form-urlencoded"), *AUTH.items()],
    ),
    Case(
        "multipart body",
        "POST",
        "/scores/normalize",
        b"--x--",
        415,
        "UnsupportedMediaType",
        "application/json",
        [("Content-Type", "multipart/form-data; boundary=x"), *AUTH.items()],
    ),
    # -- authorization ------------------------------------------------------------------
    Case("no API key", "POST", "/rerank", j(VALID), 401, "Unauthorized", headers=[*JSON.items()]),
    Case(
        "wrong API key",
        "POST",
        "/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", "Bearer s3cre")],
    ),
    Case(
        "Basic scheme",
        "POST",
        "/v1/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", f"Basic {KEY}")],
    ),
    Case(
        "Bearer without a token",
        "POST",
        "/inference/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", "Bearer")],
    ),
    Case(
        "key with trailing junk",
        "POST",
        "/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", f"Bearer {KEY}x")],
    ),
    Case(
        "duplicate Authorization, right then wrong",
        "POST",
        "/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", f"Bearer {KEY}"), ("Authorization", "Bearer x")],
    ),
    Case(
        "duplicate Authorization, both right",
        "POST",
        "/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), *AUTH.items(), *AUTH.items()],
    ),
    Case(
        "non-ASCII key",
        "POST",
        "/rerank",
        j(VALID),
        401,
        "Unauthorized",
        headers=[*JSON.items(), ("Authorization", "Bearer s3cr\xe9t".encode("latin-1"))],
    ),
    # -- methods and routes -------------------------------------------------------------
    Case("GET on /rerank", "GET", "/rerank", None, 405, "MethodNotAllowed"),
    Case("PUT on /v1/rerank", "PUT", "/v1/rerank", j(VALID), 405, "MethodNotAllowed"),
    Case(
        "DELETE on /inference/rerank", "DELETE", "/inference/rerank", None, 405, "MethodNotAllowed"
    ),
    Case(
        "PATCH on /scores/normalize", "PATCH", "/scores/normalize", b"{}", 405, "MethodNotAllowed"
    ),
    Case("POST on /health", "POST", "/health", b"{}", 405, "MethodNotAllowed"),
    Case("POST on /info", "POST", "/info", b"{}", 405, "MethodNotAllowed"),
    Case("unknown route", "POST", "/rerank/v3", j(VALID), 404, "NotFound"),
    Case("unknown version", "GET", "/v3/rerank", None, 404, "NotFound"),
    Case("undecodable path", "GET", "/%FF%FE", None, 404, "NotFound"),
    Case("8 KB path", "GET", "/" + "a" * 8000, None, 404, "NotFound"),
]
