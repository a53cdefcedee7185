"""``es-rerank endpoint ...`` against a recording HTTP server on loopback: the exact method,
path and body elasticsearch-py sends, secrets kept out of the output, ES's refusals explained."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from es_rerank.cli import main
from es_rerank.elastic import ConnectionOptions, endpoint_body, redact
from es_rerank.elastic.endpoints import DEFAULT_MAX_WINDOW
from es_rerank.resources import load_json_resource
from tests.helpers.recording_es import RecordingES, recording_es

SECRET = "sk-very-secret-123"


@pytest.fixture
def es(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingES]:
    for var in ("ES_URL", "ES_CLOUD_ID", "ES_API_KEY", "ES_USERNAME", "ES_USER", "ES_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with recording_es() as rec:
        monkeypatch.setenv("ES_URL", rec.url)
        yield rec


def created(rec: RecordingES) -> None:
    def reply(r: Any) -> tuple[int, Any]:
        body = {k: v for k, v in r.body.items() if k != "service_settings"}
        settings = {k: v for k, v in r.body["service_settings"].items() if k != "api_key"}
        settings.pop("secret_parameters", None)
        return 200, {
            "inference_id": r.path.rsplit("/", 1)[1],
            "task_type": "rerank",
            **body,
            "service_settings": settings,
        }

    rec.on("PUT", r"/_inference/rerank/[^/]+", reply)


def test_hugging_face_create_sends_exact_body_and_hides_the_key(
    es: RecordingES, capsys: pytest.CaptureFixture[str]
) -> None:
    created(es)
    code = main(
        ["endpoint", "create", "my-shim", "--service", "hugging_face",
         "--url", "http://shim:8080", "--api-key", SECRET]
    )  # fmt: skip
    assert code == 0
    puts = [r for r in es.requests if r.method == "PUT"]
    assert len(puts) == 1
    assert puts[0].path == "/_inference/rerank/my-shim"
    assert puts[0].body == {
        "service": "hugging_face",
        "service_settings": {"url": "http://shim:8080/rerank", "api_key": SECRET},
        "task_settings": {"top_n": DEFAULT_MAX_WINDOW},
    }
    assert puts[0].query == {"timeout": ["60s"]}
    out = capsys.readouterr()
    assert SECRET not in out.out + out.err
    assert "********" in out.out
    assert "created rerank endpoint [my-shim]" in out.out


def test_custom_create_body_matches_template_with_secret_parameters(es: RecordingES) -> None:
    created(es)
    assert main(
        ["endpoint", "create", "c1", "--service", "custom",
         "--url", "http://host.docker.internal:8080", "--api-key", SECRET]
    ) == 0  # fmt: skip
    (put,) = [r for r in es.requests if r.method == "PUT"]
    settings = put.body["service_settings"]
    assert settings["url"] == "http://host.docker.internal:8080/inference/rerank"
    assert settings["secret_parameters"] == {"api_key": SECRET}
    assert settings["headers"]["Authorization"] == "Bearer ${api_key}"
    # ES's own ${...} templates reach ES untouched and unquoted.
    assert (
        settings["request"] == load_json_resource("endpoint-custom")["service_settings"]["request"]
    )
    assert '"query": ${query}' in settings["request"]
    assert settings["response"]["json_parser"] == {
        "relevance_score": "$.rerank[*].relevance_score",
        "reranked_index": "$.rerank[*].index",
    }
    assert put.body["task_settings"] == {"parameters": {"top_n": 10000, "return_documents": False}}


def test_max_window_caps_what_es_sends(es: RecordingES) -> None:
    """hugging_face and cohere endpoints carry the shim's text cap as task_settings.top_n,
    which ES checks against rank_window_size before it calls the service."""
    from inference_shim.config import Settings

    assert Settings().max_client_batch_size == DEFAULT_MAX_WINDOW
    created(es)
    assert main(
        ["endpoint", "create", "h", "--service", "hugging_face", "--url", "http://s",
         "--api-key", SECRET, "--max-window", "300"]
    ) == 0  # fmt: skip
    (put,) = [r for r in es.requests if r.method == "PUT"]
    assert put.body["task_settings"] == {"top_n": 300}
    assert "task_settings" not in endpoint_body("elasticsearch", model_id="m")
    custom = endpoint_body("custom", url="http://s")["task_settings"]
    assert custom == {"parameters": {"top_n": 10000, "return_documents": False}}
    with pytest.raises(ValueError, match="custom service has no task setting that caps"):
        endpoint_body("custom", url="http://s", max_window=300)
    with pytest.raises(ValueError, match="--max-window must be at least 1, got 0"):
        endpoint_body("cohere", url="http://s", api_key=SECRET, model_id="m", max_window=0)


def test_custom_without_key_sends_no_auth_header() -> None:
    body = endpoint_body("custom", url="http://shim:8080")
    assert "secret_parameters" not in body["service_settings"]
    assert body["service_settings"]["headers"] == {"Content-Type": "application/json"}


def test_cohere_and_elasticsearch_bodies(es: RecordingES) -> None:
    created(es)
    assert main(
        ["endpoint", "create", "co", "--service", "cohere", "--url", "http://shim:8080",
         "--api-key", SECRET, "--model-id", "rerank-v3.5"]
    ) == 0  # fmt: skip
    assert main(
        ["endpoint", "create", "el", "--service", "elasticsearch", "--model-id", "my__ce",
         "--num-allocations", "2", "--num-threads", "3"]
    ) == 0  # fmt: skip
    co, el = [r for r in es.requests if r.method == "PUT"]
    assert (co.path, co.body) == (
        "/_inference/rerank/co",
        {
            "service": "cohere",
            "service_settings": {
                "url": "http://shim:8080/v2/rerank",
                "model_id": "rerank-v3.5",
                "api_key": SECRET,
            },
            "task_settings": {"top_n": DEFAULT_MAX_WINDOW},
        },
    )
    assert (el.path, el.body) == (
        "/_inference/rerank/el",
        {
            "service": "elasticsearch",
            "service_settings": {"model_id": "my__ce", "num_allocations": 2, "num_threads": 3},
        },
    )


def test_api_key_from_environment(es: RecordingES, monkeypatch: pytest.MonkeyPatch) -> None:
    created(es)
    monkeypatch.setenv("ES_RERANK_ENDPOINT_API_KEY", SECRET)
    assert main(["endpoint", "create", "h", "--service", "hugging_face", "--url", "http://s"]) == 0
    assert es.requests[-1].body["service_settings"]["api_key"] == SECRET


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (
            ["--service", "hugging_face", "--url", "http://s"],
            "hugging_face API key is required: set ES_RERANK_ENDPOINT_API_KEY",
        ),
        (["--service", "custom"], "--url is required"),
        (["--service", "elasticsearch"], "--model-id is required"),
        (["--service", "elasticsearch", "--model-id", "m", "--num-threads", "0"], "--num-threads"),
    ],
)
def test_missing_settings_are_named_before_any_request(
    es: RecordingES,
    argv: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ES_RERANK_ENDPOINT_API_KEY", raising=False)
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["endpoint", "create", "x", *argv]) == 2
    assert message in capsys.readouterr().err
    assert es.requests == []


LICENSE = {
    "error": {
        "root_cause": [
            {
                "type": "security_exception",
                "reason": "current license is non-compliant for [inference]",
            }
        ],
        "type": "security_exception",
        "reason": "current license is non-compliant for [inference]",
    },
    "status": 403,
}
EXISTS = {
    "error": {
        "root_cause": [
            {
                "type": "resource_already_exists_exception",
                "reason": "Inference endpoint [x] already exists",
            }
        ],
        "type": "resource_already_exists_exception",
        "reason": "Inference endpoint [x] already exists",
    },
    "status": 400,
}
UNREACHABLE = {
    "error": {
        "root_cause": [
            {
                "type": "status_exception",
                "reason": "Could not complete inference endpoint creation as validation call to "
                "service threw an exception.",
            }
        ],
        "type": "status_exception",
        "reason": "Could not complete inference endpoint creation as validation call to service "
        "threw an exception.",
        "caused_by": {
            "type": "status_exception",
            "reason": "Failed to send Hugging Face rerank request from inference entity id [x]. "
            "Cause: Connection refused",
        },
    },
    "status": 400,
}
WRONG_KEY = {
    "error": {
        "type": "status_exception",
        "reason": "Could not complete inference endpoint creation as validation call to service "
        "threw an exception.",
        "caused_by": {
            "type": "status_exception",
            "reason": "Received an authentication error status code for request from inference "
            "entity id [x] status [401]. Error message: [unauthorized]",
        },
    },
    "status": 400,
}
BAD_SETTINGS = {
    "error": {
        "root_cause": [
            {
                "type": "validation_exception",
                "reason": "Validation Failed: 1: [service_settings] does not contain the required "
                "setting [url];",
            }
        ],
        "type": "validation_exception",
        "reason": "Validation Failed: 1: [service_settings] does not contain the required setting "
        "[url];",
    },
    "status": 400,
}


@pytest.mark.parametrize(
    ("status", "body", "expected"),
    [
        (403, LICENSE, ["license", "trial", "non-compliant"]),
        (400, EXISTS, ["already exists", "es-rerank endpoint delete x"]),
        (400, UNREACHABLE, ["reachable from the Elasticsearch nodes", "host.docker.internal",
                            "Connection refused", "http://localhost:8080/rerank"]),
        (400, WRONG_KEY, ["refused the key", "--api-key", "status [401]"]),
        (400, BAD_SETTINGS, ["rejected the endpoint settings", "required setting [url]"]),
    ],
)  # fmt: skip
def test_refusals_are_explained(
    es: RecordingES,
    status: int,
    body: dict[str, Any],
    expected: list[str],
    capsys: pytest.CaptureFixture[str],
) -> None:
    es.on("PUT", r"/_inference/rerank/x", (status, body))
    code = main(
        ["endpoint", "create", "x", "--service", "hugging_face",
         "--url", "http://localhost:8080", "--api-key", SECRET]
    )  # fmt: skip
    assert code == 1  # the cluster refused: not a usage error
    err = capsys.readouterr().err
    assert err.startswith("es-rerank endpoint: error: ")
    assert err.count("\n") == 1
    for phrase in expected:
        assert phrase in err
    assert SECRET not in err


def test_list_delete_and_test(es: RecordingES, capsys: pytest.CaptureFixture[str]) -> None:
    es.on(
        "GET",
        r"/_inference/rerank/_all",
        (200, {"endpoints": [
            {"inference_id": "my-shim", "task_type": "rerank", "service": "hugging_face",
             "service_settings": {"url": "http://shim:8080/rerank"}},
            {"inference_id": ".rerank-v1-elasticsearch", "task_type": "rerank",
             "service": "elasticsearch", "service_settings": {"model_id": ".rerank-v1"}},
        ]}),
    )  # fmt: skip
    es.on("DELETE", r"/_inference/rerank/my-shim", (200, {"acknowledged": True}))
    es.on(
        "POST",
        r"/_inference/rerank/my-shim",
        (
            200,
            {
                "rerank": [
                    {"index": 2, "relevance_score": 3.5},
                    {"index": 0, "relevance_score": -1.25},
                ]
            },
        ),
    )
    assert main(["endpoint", "list"]) == 0
    out = capsys.readouterr().out
    assert "my-shim" in out and "http://shim:8080/rerank" in out and ".rerank-v1" in out

    assert main(["endpoint", "test", "my-shim", "--query", "q", "--text", "a", "--text", "b",
                 "--text", "c", "--top-n", "2"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    assert main(["endpoint", "delete", "my-shim"]) == 0
    assert es.calls()[-3:] == [
        ("GET", "/_inference/rerank/_all"),
        ("POST", "/_inference/rerank/my-shim"),
        ("DELETE", "/_inference/rerank/my-shim"),
    ]
    post = es.requests[-2]
    assert post.body == {"query": "q", "input": ["a", "b", "c"], "top_n": 2}
    lines = [line.split() for line in out.splitlines()[2:]]
    assert lines == [["1", "2", "3.5", "c"], ["2", "0", "-1.25", "a"]]


def test_unknown_endpoint_on_test(es: RecordingES, capsys: pytest.CaptureFixture[str]) -> None:
    es.on(
        "POST",
        r"/_inference/rerank/nope",
        (404, {"error": {"type": "resource_not_found_exception",
                         "reason": "Inference endpoint not found [nope]"}, "status": 404}),
    )  # fmt: skip
    assert main(["endpoint", "test", "nope"]) == 1
    assert "Inference endpoint not found [nope]" in capsys.readouterr().err


def test_connection_needs_a_url() -> None:
    with pytest.raises(ValueError, match=r"--es-url \(ES_URL\) or --cloud-id"):
        ConnectionOptions.resolve(env={}).client()


def test_api_key_and_basic_auth_reach_the_server(es: RecordingES) -> None:
    es.on("GET", r"/_inference/rerank/_all", (200, {"endpoints": []}))
    assert main(["endpoint", "list", "--es-api-key", "abc"]) == 0
    assert es.requests[-1].headers["authorization"] == "ApiKey abc"
    assert main(["endpoint", "list", "--es-user", "elastic", "--es-password", "pw"]) == 0
    assert es.requests[-1].headers["authorization"].startswith("Basic ")


def test_redact_masks_nested_secrets() -> None:
    body = endpoint_body("custom", url="http://s", api_key=SECRET)
    shown = redact(body)
    assert SECRET not in repr(shown)
    assert shown["service_settings"]["secret_parameters"] == {"api_key": "********"}
    assert body["service_settings"]["secret_parameters"] == {"api_key": SECRET}
