"""``es-rerank search`` end to end: real loopback servers for the cluster and the shim."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank import normalize
from es_rerank.cli import main
from tests.helpers.recording_server import Recorded, RecordingServer, Reply, serve

DOCS = [
    ("d1", {"title": "Eclipses", "text": "the moon hides the sun"}),
    ("d2", {"title": "Cats", "text": "cats purr"}),
    ("d3", {"text": "a total solar eclipse happens about every eighteen months somewhere"}),
]


class Cluster:
    def __init__(self) -> None:
        self.license_type = "basic"
        self.search_status = 200

    def __call__(self, rec: Recorded) -> Reply:
        path = rec.path.split("?")[0]
        if path == "/_license":
            return Reply(200, {"license": {"status": "active", "type": self.license_type}})
        if path == "/docs/_search":
            if self.search_status == 403:
                reason = "current license is non-compliant for [text_similarity_reranker]"
                return Reply(
                    403, {"error": {"type": "security_exception", "reason": reason}, "status": 403}
                )
            hits = [
                {"_index": "docs", "_id": i, "_score": 3.0 - n, "_source": s}
                for n, (i, s) in enumerate(DOCS)
            ]
            return Reply(
                200,
                {
                    "took": 3,
                    "timed_out": False,
                    "hits": {
                        "total": {"value": 3, "relation": "eq"},
                        "max_score": 3.0,
                        "hits": hits,
                    },
                },
            )
        return Reply(400, {"error": {"type": "illegal_argument_exception", "reason": path}})


def shim(rec: Recorded) -> Reply:
    """Longer texts score higher; answers sorted like a real shim may."""
    items = [
        {"index": i, "relevance_score": len(t) / 10 - 2} for i, t in enumerate(rec.body["input"])
    ]
    return Reply(200, {"rerank": sorted(items, key=lambda x: -x["relevance_score"])})


@pytest.fixture
def servers() -> Iterator[tuple[Cluster, RecordingServer, RecordingServer]]:
    state = Cluster()
    with (
        serve(state, default_headers={"X-Elastic-Product": "Elasticsearch"}) as es,
        serve(shim) as sh,
    ):
        yield state, es, sh


def test_table_over_es_with_the_shim(servers: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, es, sh = servers
    code = main(
        [
            "search",
            "--es-url",
            es.url,
            "--index",
            "docs",
            "--query",
            "eclipse",
            "--shim-url",
            sh.url,
            "--size",
            "2",
            "--rank-window-size",
            "3",
        ]
    )
    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out[0].split() == ["rank", "id", "score", "first-stage", "title", "/", "text"]
    raw = {i: len(src["text"]) / 10 - 2 for i, src in DOCS}
    assert out[1].split()[:4] == ["1", "d3", f"{raw['d3'] + 1:.4f}", "3"]
    assert out[2].split()[:4] == ["2", "d1", f"{raw['d1'] + 1:.4f}", "1"]
    assert "Eclipses" in out[2]
    assert out[-1].startswith("2 hit(s) of 3 · mode external")
    assert sh.requests[0].body["input"][0] == "the moon hides the sun"


@pytest.mark.parametrize(
    ("fmt", "route"), [("tei", ""), ("cohere", "/v1/rerank"), ("cohere", ""), ("es", "")]
)
def test_rerank_url_in_each_format_reaches_the_real_shim(
    servers: Any, capsys: pytest.CaptureFixture[str], fmt: str, route: str
) -> None:
    from tests.helpers.shim import serve_shim

    _, es, _ = servers
    with serve_shim(scorer="tests.inference_shim.scorers:overlap", api_key="k") as shim_url:
        argv = ["search", "--es-url", es.url, "--index", "docs", "--query", "eclipse", "--json"]
        argv += ["--rerank-url", shim_url + route, "--rerank-format", fmt, "--rerank-api-key", "k"]
        if fmt == "cohere":  # its routes answer sigmoid, as Cohere's: turned back into logits
            argv += ["--rerank-score-scale", "sigmoid"]
        assert main(argv) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]["hits"]
    # overlap: query words found minus len/1000; normalized as Elasticsearch does
    expected = {
        i: (1.0 if "eclipse" in s["text"] else 0.0) - len(s["text"]) / 1000 for i, s in DOCS
    }
    assert [h["_id"] for h in hits] == ["d3", "d2", "d1"]
    assert [h["_score"] for h in hits] == pytest.approx(
        [normalize(expected[h["_id"]]) for h in hits]
    )


def test_json_output_is_es_shaped(servers: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, es, sh = servers
    assert (
        main(
            [
                "search",
                "--es-url",
                es.url,
                "--index",
                "docs",
                "--query",
                "q",
                "--shim-url",
                sh.url,
                "--json",
                "--min-score",
                "0",
            ]
        )
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    # raw scores: d3 4.8, d1 0.2, d2 -1.1; min_score 0 drops d2 only
    assert [h["_id"] for h in body["hits"]["hits"]] == ["d3", "d1"]
    assert body["hits"]["hits"][0]["_source"]["text"].startswith("a total solar")


def test_native_with_inference_id_sends_the_retriever(
    servers: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    state, es, _ = servers
    state.license_type = "enterprise"
    assert (
        main(
            [
                "search",
                "--es-url",
                es.url,
                "--index",
                "docs",
                "--query",
                "eclipse",
                "--inference-id",
                "my-rerank",
                "--filter",
                '{"term": {"lang": "en"}}',
                "--min-score",
                "1.5",
                "--min-score-space",
                "normalized",
            ]
        )
        == 0
    )
    assert "mode native" in capsys.readouterr().out
    sent = es.requests[-1].body["retriever"]["text_similarity_reranker"]
    assert sent == {
        "retriever": {"standard": {"query": {"match": {"text": "eclipse"}}}},
        "field": "text",
        "inference_id": "my-rerank",
        "inference_text": "eclipse",
        "rank_window_size": 10,
        "min_score": 0.5,
        "filter": {"term": {"lang": "en"}},
    }


def test_credentials_from_flags(servers: Any, capsys: pytest.CaptureFixture[str]) -> None:
    _, es, sh = servers
    base = ["search", "--es-url", es.url, "--index", "docs", "--query", "q", "--shim-url", sh.url]
    assert main([*base, "--es-api-key", "k3y"]) == 0
    assert es.requests[-1].headers["authorization"] == "ApiKey k3y"
    assert main([*base, "--es-username", "elastic", "--es-password", "pw"]) == 0
    assert es.requests[-1].headers["authorization"] == "Basic ZWxhc3RpYzpwdw=="


def test_license_refusal_exits_1_with_es_reason(
    servers: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    state, es, _ = servers
    state.search_status = 403
    assert (
        main(["search", "--es-url", es.url, "--index", "docs", "--query", "q", "--mode", "native"])
        == 1
    )
    assert "non-compliant for [text_similarity_reranker]" in capsys.readouterr().err


def test_in_process_model(
    servers: Any, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, es, _ = servers
    assert (
        main(
            [
                "search",
                "--es-url",
                es.url,
                "--index",
                "docs",
                "--query",
                "eclipse",
                "--model",
                str(tiny_cross_encoder),
                "--json",
            ]
        )
        == 0
    )
    body = json.loads(capsys.readouterr().out)
    assert sorted(h["_id"] for h in body["hits"]["hits"]) == ["d1", "d2", "d3"]


ON_A_CLUSTER = ["--query", "q", "--es-url", "http://127.0.0.1:1", "--index", "i"]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--query", "q"], "give --local PATH, or --es-url URL"),
        (["--query", "q", "--es-url", "http://127.0.0.1:1"], "--index NAME is required"),
        (
            ["--query", "q", "--local", "/nonexistent/index"],
            "no es-rerank index at /nonexistent/index",
        ),
        (
            ["--query", "q", "--es-url", "http://127.0.0.1:1", "--index", "i", "--size", "20"],
            "requires [rank_window_size: 10] be greater than or equal to [size: 20]",
        ),
        (
            ["--query", "q", "--es-url", "http://127.0.0.1:1", "--index", "i", "--filter", "{bad"],
            "--filter is not valid JSON",
        ),
        (
            ["--query", "", "--es-url", "http://127.0.0.1:1", "--index", "i"],
            "Field [query] cannot be empty",
        ),
        (
            [
                "--query",
                "q",
                "--es-url",
                "http://127.0.0.1:1",
                "--index",
                "i",
                "--model",
                "m",
                "--shim-url",
                "http://x",
            ],
            "at most one of --model, --shim-url and --rerank-url (got --model and --shim-url)",
        ),
        (
            ["--query", "q", "--es-url", "http://127.0.0.1:1", "--index", "i", "--size", "-1"],
            "--size must be >= 0",
        ),
        (
            [*ON_A_CLUSTER, "--shim-url", "http://x", "--rerank-url", "http://y"],
            "at most one of --model, --shim-url and --rerank-url (got --shim-url and --rerank-url)",
        ),
        (
            [*ON_A_CLUSTER, "--rerank-format", "tei"],
            "--rerank-format needs --rerank-url",
        ),
        (
            [*ON_A_CLUSTER, "--rerank-url", "http://y/v2/rerank", "--rerank-format", "tei"],
            "--rerank-url 'http://y/v2/rerank' ends in /v2/rerank, a route of the cohere format",
        ),
        (
            [*ON_A_CLUSTER, "--rerank-url", "http://y", "--rerank-timeout", "0"],
            "--rerank-timeout must be > 0 seconds",
        ),
    ],
)
def test_bad_flags_exit_2_naming_the_problem(
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ES_URL", raising=False)
    assert main(["search", *argv]) == 2
    err = capsys.readouterr().err
    assert err.startswith("es-rerank search: error: ")
    assert message in err
