"""es_rerank.elastic against real loopback servers: connection options and their ES_*
mirrors, the ApiError table with its product check, and the bulk indexer's report."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank import (
    AuthenticationError,
    AuthorizationError,
    ConfigurationError,
    ElasticsearchConflictError,
    ElasticsearchError,
    ElasticsearchNotFoundError,
    ElasticsearchRequestError,
    LicenseError,
    NotElasticsearchError,
)
from es_rerank.elastic import ConnectionOptions, bulk_index, list_endpoints
from tests.helpers.recording_server import Recorded, Reply, serve

PRODUCT = {"X-Elastic-Product": "Elasticsearch"}


def test_flags_win_over_the_environment_and_fill_from_it() -> None:
    env = {
        "ES_URL": "http://env:9200",
        "ES_USERNAME": "u",
        "ES_PASSWORD": "s3cret-pw",
        "ES_CA_CERTS": "/ca.pem",
        "ES_INSECURE": "yes",
    }
    opts = ConnectionOptions.resolve(url="http://flag:9200", env=env)
    assert (opts.url, opts.username, opts.password, opts.ca_certs, opts.insecure) == (
        "http://flag:9200", "u", "s3cret-pw", "/ca.pem", True,
    )  # fmt: skip
    assert "s3cret-pw" not in repr(opts) and "s3cret-pw" not in opts.describe()
    assert ConnectionOptions.resolve(insecure=False, env=env).insecure is False


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({}, "--es-url (ES_URL) or --cloud-id (ES_CLOUD_ID)"),
        ({"url": "http://a:1", "cloud_id": "c"}, "only one of"),
        ({"url": "http://a:1", "password": "p"}, "needs --es-username"),
        ({"url": "http://a:1", "api_key": "k", "username": "u"}, "not both"),
        ({"url": "http://a:1", "ca_certs": "/no/such.pem"}, "no such file"),
        ({"url": "a:9200"}, "scheme"),
    ],
)
def test_bad_options_are_named(options: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigurationError, match=message.replace("(", r"\(").replace(")", r"\)")):
        ConnectionOptions.resolve(env={}, **options).client()


def test_a_bad_boolean_in_the_environment_is_named() -> None:
    with pytest.raises(ConfigurationError, match="ES_INSECURE"):
        ConnectionOptions.resolve(env={"ES_INSECURE": "maybe"})


def _error(status: int, error_type: str, reason: str) -> Reply:
    body = {"error": {"type": error_type, "reason": reason}, "status": status}
    return Reply(status, body, headers=PRODUCT)


@pytest.mark.parametrize(
    ("reply", "cls", "hint"),
    [
        (_error(400, "illegal_argument_exception", "bad"), ElasticsearchRequestError, ""),
        (_error(401, "security_exception", "no auth"), AuthenticationError, "--es-api-key"),
        (_error(403, "security_exception", "no privilege"), AuthorizationError, "privilege"),
        (_error(403, "security_exception", "current license is non-compliant for [inference]"),
         LicenseError, "trial"),
        (_error(404, "resource_not_found_exception", "gone"), ElasticsearchNotFoundError, ""),
        (_error(409, "version_conflict_engine_exception", "conflict"),
         ElasticsearchConflictError, ""),
        (_error(500, "internal", "boom"), ElasticsearchError, ""),
        # answers that are not Elasticsearch's: no product header, no ES error body
        (Reply(200, {"endpoints": []}), NotElasticsearchError, "9200"),
        (Reply(502, "Bad Gateway"), NotElasticsearchError, "9200"),
        # the shim's (TEI's) error body has a string `error` too; without ES's header it is
        # a rerank server, named as one
        (Reply(404, {"error": "no route /_inference", "error_type": "NotFound"}),
         NotElasticsearchError, "endpoint create --url"),
        (Reply(401, {"error": "missing API key", "error_type": "Unauthorized"}),
         NotElasticsearchError, "endpoint create --url"),
        # a proxy that drops the header keeps ES's error shape: still ES's error
        (Reply(404, {"error": {"type": "index_not_found_exception", "reason": "no [x]"},
                     "status": 404}), ElasticsearchNotFoundError, ""),
        (Reply(405, {"error": "Incorrect HTTP method", "status": 405}), ElasticsearchError, ""),
    ],
)  # fmt: skip
def test_the_status_table(reply: Reply, cls: type[ElasticsearchError], hint: str) -> None:
    with serve(lambda rec: reply) as server:
        client = ConnectionOptions(url=server.url).client()
        with pytest.raises(ElasticsearchError) as info:
            list_endpoints(client)
    assert type(info.value) is cls
    assert hint in info.value.hint
    assert "None" not in str(info.value)


@pytest.fixture
def bulk_server() -> Iterator[Any]:
    """Creates the index, then refuses documents whose ``n`` is not an integer."""

    def answer(rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        if rec.method == "HEAD":
            return Reply(404, None, headers=PRODUCT)
        if rec.method == "PUT" and path == "/docs":
            return Reply(200, {"acknowledged": True}, headers=PRODUCT)
        if path == "/_bulk":
            lines = [line for line in rec.body.splitlines() if line] if isinstance(
                rec.body, str) else []  # fmt: skip
            items = []
            import json

            for action, source in zip(lines[::2], lines[1::2], strict=True):
                doc_id = json.loads(action)["index"]["_id"]
                if isinstance(json.loads(source).get("n"), int):
                    items.append({"index": {"_id": doc_id, "status": 201}})
                else:
                    error = {"type": "document_parsing_exception", "reason": "failed to parse [n]"}
                    items.append({"index": {"_id": doc_id, "status": 400, "error": error}})
            return Reply(200, {"errors": True, "items": items}, headers=PRODUCT)
        return Reply(200, {}, headers=PRODUCT)

    with serve(answer) as server:
        yield server


def test_bulk_index_reports_every_rejected_document(bulk_server: Any, tmp_path: Path) -> None:
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"_id": "a", "n": 1}\nnot json\n{"n": 2}\n{"_id": "b", "n": "x"}\n[]\n')
    client = ConnectionOptions(url=bulk_server.url).client()
    result = bulk_index(client, "docs", docs, mapping="passages", progress=False)
    assert result.indexed == 1
    assert [(r.position, r.id) for r in result.rejected] == [
        (2, None), (3, None), (4, "b"), (5, None),
    ]  # fmt: skip
    assert "invalid JSON" in result.rejected[0].reason
    assert "missing id field '_id'" in result.rejected[1].reason
    assert "document_parsing_exception: failed to parse [n]" in result.rejected[2].reason
    assert result.rejected[3].reason == "not a JSON object but an array"
    methods = [(r.method, r.path.split("?")[0]) for r in bulk_server.requests]
    assert methods[:2] == [("HEAD", "/docs"), ("PUT", "/docs")]
    assert methods[-1] == ("POST", "/docs/_refresh")


def test_bulk_index_rejects_undecodable_lines_alone(bulk_server: Any, tmp_path: Path) -> None:
    """A lone surrogate or a line that is not UTF-8 is reported with its line and never
    sent (elasticsearch-py could not encode it); the documents around it are indexed."""
    docs = tmp_path / "docs.jsonl"
    docs.write_bytes(
        b'{"_id": "a", "n": 1}\n{"_id": "s", "text": "\\ud800"}\n'
        b'{"_id": "u", "text": "\xff"}\n{"_id": "b", "n": 2}\n'
    )
    client = ConnectionOptions(url=bulk_server.url).client()
    result = bulk_index(client, "docs", docs, mapping="passages", progress=False)
    assert result.indexed == 2
    assert [(r.position, r.reason) for r in result.rejected] == [
        (2, "lone surrogate \\ud800 in field 'text': not valid Unicode text"),
        (3, "not valid UTF-8: byte 0xff at column 23"),
    ]
    sent = "".join(r.body for r in bulk_server.requests if r.path.startswith("/_bulk"))
    assert '"_id":"a"' in sent and '"_id":"b"' in sent
    assert '"_id":"s"' not in sent and '"_id":"u"' not in sent
