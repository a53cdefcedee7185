"""Every rerank service ``es-rerank endpoint create`` knows: its example in docs/endpoints.md
runs against a recording ES, and the body sent is checked against the
elasticsearch-specification's ``inference.put_*`` request types (commit named by
``tests/spec/inference_types.json``), with the few places where ES's own source differs
from the spec listed in :data:`tests.spec.spec_types.ES_OVER_SPEC`."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank.cli import main
from es_rerank.cli.endpoint import secret
from es_rerank.elastic import endpoint_body
from es_rerank.elastic.endpoints import (
    SERVICES,
    WINDOW_KEYS,
    AdaptiveAllocations,
    required_parameters,
)
from es_rerank.elastic.inference import _request
from es_rerank.errors import ConfigurationError
from tests.helpers import ROOT
from tests.helpers.recording_es import RecordingES, recording_es
from tests.spec import spec_types

KEY = "sk-example-secret"
GOOGLE = json.dumps({"type": "service_account", "private_key": "-----BEGIN fake"})
BLOCK = re.compile(r"<!-- endpoint-examples -->\n```sh\n(.*?)```", re.S)
EXAMPLES = [
    shlex.split(line)
    for line in BLOCK.search((ROOT / "docs/endpoints.md").read_text()).group(1).splitlines()  # type: ignore[union-attr]
    if line.strip()
]


def _service_of(argv: list[str]) -> str:
    return argv[argv.index("--service") + 1]


@pytest.fixture
def es(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[RecordingES]:
    for var in ("ES_URL", "ES_CLOUD_ID", "ES_API_KEY", "ES_USERNAME", "ES_USER", "ES_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("ES_RERANK_ENDPOINT_API_KEY", KEY)
    monkeypatch.delenv("ES_RERANK_ENDPOINT_SERVICE_ACCOUNT_JSON", raising=False)
    (tmp_path / "key.json").write_text(GOOGLE)
    monkeypatch.chdir(tmp_path)
    with recording_es() as rec:
        monkeypatch.setenv("ES_URL", rec.url)
        rec.on("PUT", r"/_inference/rerank/[^/]+", (200, {"inference_id": "x"}))
        yield rec


def test_the_docs_show_one_example_per_service() -> None:
    assert sorted(_service_of(a) for a in EXAMPLES) == sorted(SERVICES)


def test_spec_commit_is_named() -> None:
    assert re.fullmatch(r"[0-9a-f]{40}", spec_types.commit())
    assert spec_types.commit() == "9d9b9a521cc1070c1c9eb6c77d91c3a5fb09730d"


@pytest.mark.parametrize("argv", EXAMPLES, ids=_service_of)
def test_docs_example_sends_a_body_the_specification_accepts(
    es: RecordingES, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert argv[:3] == ["es-rerank", "endpoint", "create"]
    assert main(argv[1:]) == 0
    (put,) = [r for r in es.requests if r.method == "PUT"]
    service = _service_of(argv)
    assert put.path == f"/_inference/rerank/{argv[3]}"
    assert put.body["service"] == service
    assert spec_types.check_put(service, put.body) == []
    out = capsys.readouterr()
    assert KEY not in out.out + out.err and "BEGIN fake" not in out.out + out.err
    secrets = put.body["service_settings"]
    if "api_key" in required_parameters(service):
        assert secrets["api_key"] == KEY  # from the environment, not the command line
    if service == "googlevertexai":
        assert secrets["service_account_json"] == GOOGLE


def test_docs_examples_carry_their_service_settings(es: RecordingES) -> None:
    for argv in EXAMPLES:
        assert main(argv[1:]) == 0
    bodies = {r.body["service"]: r.body for r in es.requests if r.method == "PUT"}
    assert bodies["elasticsearch"]["service_settings"] == {
        "model_id": ".rerank-v1",
        "num_threads": 1,
        "adaptive_allocations": {
            "enabled": True,
            "min_number_of_allocations": 0,
            "max_number_of_allocations": 4,
        },
        "long_document_strategy": "chunk",
        "max_chunks_per_doc": 5,
    }
    assert bodies["voyageai"]["task_settings"] == {"top_k": 100}
    assert bodies["hugging_face"]["task_settings"] == {"top_n": 1000}
    assert "task_settings" not in bodies["jinaai"]  # no cap unless asked for
    assert bodies["alibabacloud-ai-search"]["service_settings"]["service_id"] == (
        "ops-bge-reranker-larger"
    )
    assert bodies["watsonxai"]["service_settings"]["api_version"] == "2024-05-02"
    assert bodies["cohere"]["service_settings"] == {"model_id": "rerank-v3.5", "api_key": KEY}
    assert bodies["elastic"] == {
        "service": "elastic",
        "service_settings": {"model_id": "elastic-rerank-v1"},
    }


@pytest.mark.parametrize("service", sorted(WINDOW_KEYS))
def test_max_window_lands_where_the_service_reads_it(service: str) -> None:
    needs: dict[str, Any] = {name: "x" for name in required_parameters(service)}
    if "url" in needs:
        needs["url"] = "http://shim:8080"
    body = endpoint_body(service, max_window=7, return_documents=False, **needs)
    assert body["task_settings"][WINDOW_KEYS[service]] == 7
    assert spec_types.check_put(service, body) == []


@pytest.mark.parametrize("service", sorted(set(SERVICES) - set(WINDOW_KEYS)))
def test_max_window_is_refused_where_no_setting_caps_results(service: str) -> None:
    needs: dict[str, Any] = {
        name: "http://s" if name == "url" else "x" for name in required_parameters(service)
    }
    with pytest.raises(ConfigurationError, match="has no task setting that caps its results"):
        endpoint_body(service, max_window=7, **needs)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ({"service": "cohere", "service_settings": {"model_id": "m"}},
         "missing required field [api_key]"),
        ({"service": "cohere", "service_settings": {"model_id": "m", "api_key": "k"},
          "task_settings": {"top_n": "10"}}, "'10' is not integer"),
        ({"service": "cohere", "service_settings": {"model_id": "m", "api_key": "k",
                                                    "num_threads": 1}},
         "unknown field [num_threads]"),
        ({"service": "cohere", "service_settings": {"model_id": "m", "api_key": "k"},
          "task_settings": {"top_n": True}}, "True is not integer"),
    ],
)  # fmt: skip
def test_the_checker_catches_what_the_spec_forbids(body: dict[str, Any], problem: str) -> None:
    errors = spec_types.check_put("cohere", body)
    assert any(problem in e for e in errors), errors


def test_the_checker_reads_the_task_type_path_part() -> None:
    body = endpoint_body("jinaai", model_id="m", api_key="k")
    assert spec_types.check_put("jinaai", body, task_type="rerank") == []
    assert spec_types.check_put("jinaai", body, task_type="completion") != []


@pytest.mark.parametrize("patch", spec_types.ES_OVER_SPEC, ids=lambda p: f"{p[0]}.{p[1]}")
def test_each_es_over_spec_patch_is_still_a_disagreement(patch: tuple[Any, ...]) -> None:
    iface, field, es_type, required, why = patch
    raw = spec_types.raw_spec()["interfaces"][iface]["fields"].get(field)
    assert raw != {"required": required, "type": es_type}, f"the spec now agrees: drop {patch}"
    assert why


@pytest.mark.parametrize(
    ("kwargs", "body"),
    [
        ({}, {"query": "q", "input": ["a", "b"]}),
        ({"top_n": 1, "return_documents": True},
         {"query": "q", "input": ["a", "b"], "top_n": 1, "return_documents": True}),
    ],
)  # fmt: skip
def test_rerank_requests_match_the_specification(
    kwargs: dict[str, Any], body: dict[str, Any]
) -> None:
    sent = _request("q", ["a", "b"], **kwargs)
    assert sent == body
    assert spec_types.check_rerank(sent) == []


def test_endpoint_test_sends_request_level_top_n_and_return_documents(
    es: RecordingES, capsys: pytest.CaptureFixture[str]
) -> None:
    es.on(
        "POST",
        r"/_inference/rerank/jina",
        (200, {"rerank": [{"index": 1, "relevance_score": 0.9, "text": "b"}]}),
    )
    argv = ["endpoint", "test", "jina", "--query", "q", "--text", "a", "--text", "b"]
    assert main([*argv, "--top-n", "1", "--return-documents"]) == 0
    post = es.requests[-1]
    assert post.body == {"query": "q", "input": ["a", "b"], "top_n": 1, "return_documents": True}
    assert spec_types.check_rerank(post.body) == []
    assert capsys.readouterr().out.splitlines()[-1].split() == ["1", "1", "0.9", "b"]


# -- secrets -------------------------------------------------------------------------------


def test_a_required_secret_is_prompted_for_in_a_terminal() -> None:
    asked: list[str] = []

    def prompt(label: str) -> str:
        asked.append(label)
        return " typed-key "

    value = secret(
        "api_key", given=None, env_var="K", required=True, label="jinaai API key",
        environ={}, prompt=prompt, interactive=True,
    )  # fmt: skip
    assert (value, asked) == ("typed-key", ["jinaai API key: "])


def test_the_environment_wins_over_the_prompt_and_optional_secrets_are_not_asked() -> None:
    def never(label: str) -> str:
        raise AssertionError("prompted")

    env = {"K": "from-env"}
    assert secret("api_key", given=None, env_var="K", required=True, label="k",
                  environ=env, prompt=never, interactive=True) == "from-env"  # fmt: skip
    assert secret("api_key", given=None, env_var="K", required=False, label="k",
                  environ={}, prompt=never, interactive=True) is None  # fmt: skip


def test_a_missing_secret_without_a_terminal_names_the_variable(
    es: RecordingES, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ES_RERANK_ENDPOINT_API_KEY")
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    assert main(["endpoint", "create", "j", "--service", "jinaai", "--model-id", "m"]) == 2
    err = capsys.readouterr().err
    assert "jinaai API key is required: set ES_RERANK_ENDPOINT_API_KEY" in err
    assert es.requests == []


def test_google_service_account_from_the_environment(
    es: RecordingES, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ES_RERANK_ENDPOINT_SERVICE_ACCOUNT_JSON", GOOGLE)
    assert (
        main(["endpoint", "create", "v", "--service", "googlevertexai", "--project-id", "p"]) == 0
    )
    assert es.requests[-1].body["service_settings"]["service_account_json"] == GOOGLE


# -- elasticsearch service settings --------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_chunks_per_doc": 3}, "--max-chunks-per-doc needs --long-document-strategy chunk"),
        ({"long_document_strategy": "split"}, "must be one of truncate, chunk"),
        ({"max_chunks_per_doc": 0, "long_document_strategy": "chunk"}, "at least 1"),
    ],
)
def test_elasticsearch_long_document_settings_are_checked(
    kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        endpoint_body("elasticsearch", model_id=".rerank-v1", **kwargs)


def test_long_document_strategy_is_for_the_elastic_reranker_only() -> None:
    with pytest.raises(ConfigurationError, match=r"only for the Elastic Rerank model"):
        endpoint_body("elasticsearch", model_id="my__ce", long_document_strategy="chunk")


def test_elasticsearch_only_settings_are_refused_elsewhere() -> None:
    with pytest.raises(ConfigurationError, match="--adaptive-allocations applies to"):
        endpoint_body("jinaai", model_id="m", api_key="k",
                      adaptive_allocations=AdaptiveAllocations(1, 2))  # fmt: skip


@pytest.mark.parametrize("text", ["4", "a:b", "3:1", "0:0", "-1:2"])
def test_bad_adaptive_allocations_are_usage_errors(
    text: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["endpoint", "create", "e", "--service", "elasticsearch", "--model-id", "m",
              "--adaptive-allocations", text])  # fmt: skip
    assert exc.value.code == 2
    assert "--adaptive-allocations" in capsys.readouterr().err


def test_unknown_service_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        main(["endpoint", "create", "e", "--service", "openai"])
    assert "unknown service 'openai'" in capsys.readouterr().err


def test_list_shows_what_each_service_calls(
    es: RecordingES, capsys: pytest.CaptureFixture[str]
) -> None:
    es.on(
        "GET",
        r"/_inference/rerank/_all",
        (200, {"endpoints": [
            {"inference_id": "ali", "service": "alibabacloud-ai-search",
             "service_settings": {"service_id": "ops-bge-reranker-larger", "host": "h"}},
            {"inference_id": "az", "service": "azureaistudio",
             "service_settings": {"target": "https://az/x", "provider": "cohere"}},
        ]}),
    )  # fmt: skip
    assert main(["endpoint", "list"]) == 0
    rows = [line.split() for line in capsys.readouterr().out.splitlines()]
    assert rows == [
        ["ali", "alibabacloud-ai-search", "ops-bge-reranker-larger"],
        ["az", "azureaistudio", "https://az/x"],
    ]
