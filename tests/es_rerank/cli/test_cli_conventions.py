"""The commands' shared conventions: every main flag has an environment mirror from one
table (named in --help, the command line winning), errors in the command line's vocabulary
(flag names, never keyword arguments), BEIR's other qrels splits, and -q/-v everywhere."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from es_rerank import env_mirrors
from es_rerank.cli import build_parser, main
from es_rerank.datasets import load_beir
from tests.es_rerank.cli.test_search_cli import DOCS, Cluster, shim
from tests.helpers.recording_server import Recorded, Reply, serve


@pytest.fixture
def servers() -> Iterator[tuple[str, str]]:
    with (
        serve(Cluster(), default_headers={"X-Elastic-Product": "Elasticsearch"}) as es,
        serve(shim) as sh,
    ):
        yield es.url, sh.url


def _help(command: str) -> str:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    return " ".join(sub.choices[command].format_help().split())  # type: ignore[attr-defined]


@pytest.mark.parametrize("command", ["search", "eval", "calibrate", "demo"])
def test_help_names_the_environment_variable_of_every_mirrored_flag(command: str) -> None:
    text = _help(command)
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    flags = {f for a in sub.choices[command]._actions for f in a.option_strings}  # type: ignore[attr-defined]
    mirrored = [f for f in flags if f in env_mirrors.ENV_MIRRORS]
    assert mirrored, command
    for flag in mirrored:
        assert f"env {env_mirrors.ENV_MIRRORS[flag]}" in text, (command, flag)


def test_every_flag_of_every_command_has_help() -> None:
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[attr-defined]
        for action in command._actions:
            if action.option_strings:
                assert action.help, (name, action.option_strings)


def test_search_reads_its_flags_from_the_environment(
    servers: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    es, sh = servers
    monkeypatch.setenv("ES_RERANK_SIZE", "1")
    monkeypatch.setenv("ES_RERANK_RANK_WINDOW_SIZE", "2")
    argv = ["search", "--es-url", es, "--index", "docs", "--query", "q", "--shim-url", sh]
    assert main([*argv, "--json"]) == 0
    hits = json.loads(capsys.readouterr().out)["hits"]["hits"]
    # window 2 of the first stage (d1, d2), longest text first, 1 hit
    assert [h["_id"] for h in hits] == ["d1"]
    # the command line wins
    assert main([*argv, "--json", "--size", "2"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hits"]["hits"]) == 2


def test_a_reranker_on_the_command_line_wins_over_es_rerank_model(
    servers: tuple[str, str], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    es, sh = servers
    monkeypatch.setenv("ES_RERANK_MODEL", "/no/such/model")
    argv = ["search", "--es-url", es, "--index", "docs", "--query", "q", "--shim-url", sh]
    assert main([*argv, "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["hits"]["hits"]) == 3


def test_search_uses_es_rerank_model_as_demo_and_eval_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from es_rerank import LocalIndex

    LocalIndex(tmp_path / "idx", create=True).add([{"_id": i, **s} for i, s in DOCS])
    monkeypatch.setenv("ES_RERANK_MODEL", str(tmp_path / "no-such-model"))
    code = main(["search", "--local", str(tmp_path / "idx"), "--query", "moon"])
    err = capsys.readouterr().err
    # the variable was read: the model it names is what failed to load
    assert code == 2
    assert "no-such-model" in err


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("ES_RERANK_SIZE", "ten", "environment variable ES_RERANK_SIZE"),
        ("ES_RERANK_MODE", "fast", "'fast' is not one of auto, native, external"),
        ("ES_RERANK_VERBOSITY", "9", "ES_RERANK_VERBOSITY must be 0, 1 or 2"),
    ],
)
def test_a_bad_environment_value_is_named(
    var: str,
    value: str,
    message: str,
    servers: tuple[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    es, sh = servers
    monkeypatch.setenv(var, value)
    argv = ["search", "--es-url", es, "--index", "docs", "--query", "q", "--shim-url", sh]
    try:
        code = main(argv)
    except SystemExit as exc:  # argparse refuses a flag's value; main refuses the verbosity
        code = exc.code
    assert code == 2
    assert message in capsys.readouterr().err


def test_native_mode_refusal_names_flags_not_keywords(
    servers: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    es, sh = servers
    argv = ["search", "--es-url", es, "--index", "docs", "--query", "q", "--shim-url", sh]
    assert main([*argv, "--mode", "native"]) == 2
    err = capsys.readouterr().err
    assert "--shim-url is not used with --mode native" in err
    assert "reranker=" not in err and "mode='native'" not in err


def _probability_server(rec: Recorded) -> Reply:
    n = len(rec.body["texts"])
    return Reply(200, [{"index": i, "score": 3.0 + i} for i in range(n)])  # not in [0, 1]


def test_score_scale_error_speaks_each_callers_vocabulary(
    servers: tuple[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    from es_rerank import HttpReranker, RerankError

    es, _ = servers
    with serve(_probability_server) as tei:
        argv = ["search", "--es-url", es, "--index", "docs", "--query", "q"]
        argv += ["--rerank-url", tei.url, "--rerank-format", "tei"]
        assert main([*argv, "--rerank-score-scale", "sigmoid"]) == 1
        err = capsys.readouterr().err
        assert "use --rerank-score-scale raw" in err and "score_scale=" not in err
        with pytest.raises(RerankError, match="use score_scale='raw'"):
            HttpReranker(tei.url, format="tei", score_scale="sigmoid").rerank("q", ["a", "b"])


def _beir(root: Path) -> Path:
    (root / "qrels").mkdir(parents=True)
    (root / "corpus.jsonl").write_text('{"_id": "d1", "text": "x"}\n')
    (root / "queries.jsonl").write_text('{"_id": "q1", "text": "x"}\n{"_id": "q2", "text": "y"}\n')
    (root / "qrels" / "test.tsv").write_text("query-id\tcorpus-id\tscore\nq1\td1\t1\n")
    (root / "qrels" / "dev.tsv").write_text("query-id\tcorpus-id\tscore\nq2\td1\t2\n")
    return root


def test_split_picks_the_qrels_file(tmp_path: Path) -> None:
    root = _beir(tmp_path / "ds")
    assert load_beir(root).qrels == {"q1": {"d1": 1}}
    assert load_beir(root, split="dev").qrels == {"q2": {"d1": 2}}
    with pytest.raises(FileNotFoundError, match=r"qrels/train\.tsv"):
        load_beir(root, split="train")
    with pytest.raises(ValueError, match="split must be"):
        load_beir(root, split="../test")


def test_eval_split_flag_reaches_the_dataset(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _beir(tmp_path / "ds")
    monkeypatch.setenv("ES_RERANK_CACHE", str(tmp_path / "cache"))
    argv = ["eval", "--dataset", str(root), "--split", "nope", "--model", str(tmp_path)]
    assert main(argv) == 2
    assert "qrels/nope.tsv" in capsys.readouterr().err


@pytest.mark.parametrize("flag", ["-q", "--quiet", "-v", "--verbose"])
def test_quiet_and_verbose_are_accepted_before_and_after_the_command(flag: str) -> None:
    parser = build_parser()
    assert parser.parse_args([flag, "normalize", "1"]).verbosity is not None
    assert parser.parse_args(["normalize", "1", flag]).verbosity is not None


def test_quiet_and_verbose_exclude_each_other(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["normalize", "1", "-q", "-v"])
    assert "not allowed with" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("command", "given", "other"),
    [("normalize", "raw", "normalized"), ("denormalize", "normalized", "raw")],
)
def test_score_conversions_print_json(
    command: str, given: str, other: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from es_rerank import denormalize, normalize

    assert main([command, "0.5", "1", "3", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    fn = normalize if command == "normalize" else denormalize
    assert out == {given: [0.5, 1.0, 3.0], other: fn([0.5, 1.0, 3.0])}


@pytest.mark.parametrize(
    "argv",
    [
        ["demo"],
        ["eval", "--dataset", "DS", "--model", "MODEL"],
    ],
)
def test_an_unwritable_cache_is_named_with_its_variable(
    argv: list[str],
    tmp_path: Path,
    tiny_cross_encoder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("ES_RERANK_CACHE", str(blocker / "cache"))
    monkeypatch.setenv("ES_RERANK_MODEL", str(tiny_cross_encoder))
    ds = _beir(tmp_path / "ds")
    argv = [str(ds) if a == "DS" else str(tiny_cross_encoder) if a == "MODEL" else a for a in argv]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert f"the cache directory {blocker / 'cache'}" in err and "ES_RERANK_CACHE" in err
    assert "Errno" not in err and "Traceback" not in err
