"""``es-rerank calibrate`` end to end: a real local index, a real (tiny) cross-encoder, and
the printed retriever run back through ``search`` to keep exactly what the sweep said."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from es_rerank import retriever_from_dict, search
from es_rerank.cli import main
from es_rerank.cli.calibrate import QUERY_PLACEHOLDER
from es_rerank.datasets import load_beir
from es_rerank.factories import cross_encoder_reranker
from es_rerank.index_cache import cached_corpus_index
from tests.helpers.tiny_beir import write_tiny_beir

WINDOW = 6


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ES_RERANK_CACHE", str(cache))
    return cache


def _dataset(root: Path) -> Path:
    """The tiny collection plus unjudged near misses and a document without text."""
    write_tiny_beir(root)
    extra = [
        {"_id": "d5", "title": "wing flutter", "text": "flutter of a thin wing in a wind tunnel"},
        {"_id": "d6", "title": "lift curve", "text": "the lift curve slope of a delta wing"},
        {"_id": "d7", "title": "heat shield", "text": "ablation of a heat shield on reentry"},
        {"_id": "d8", "title": "wing lift, no text"},
    ]
    with (root / "corpus.jsonl").open("a") as fh:
        fh.writelines(json.dumps(d) + "\n" for d in extra)
    return root


def _fill(node: object, text: str) -> object:
    if isinstance(node, dict):
        return {k: _fill(v, text) for k, v in node.items()}
    if isinstance(node, list):
        return [_fill(v, text) for v in node]
    return text if node == QUERY_PLACEHOLDER else node


@pytest.mark.slow
def test_calibrate_threshold_keeps_what_it_reports(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = _dataset(tmp_path / "ds"), tmp_path / "out"
    argv = ["calibrate", "--dataset", str(ds), "--out", str(out)]
    argv += ["--model", str(tiny_cross_encoder), "--rank-window-size", str(WINDOW)]
    assert main([*argv, "--target-precision", "0.5"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "calibration.json").read_text())
    assert (out / "calibration.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"

    index = cached_corpus_index(ds / "corpus.jsonl", name=ds.name)  # built by the run
    data = load_beir(ds)
    reranker = cross_encoder_reranker(tiny_cross_encoder)
    # every window hit with text was scored; d8 (no text) never was
    windows = {
        q: index.search_query(
            {"multi_match": {"query": t, "fields": ["title", "text"]}}, size=WINDOW
        )
        for q, t in data.queries.items()
    }
    assert any(h.id == "d8" for hits in windows.values() for h in hits)
    assert result["scored"] == sum(1 for hs in windows.values() for h in hs if h.source.get("text"))
    assert result["relevant"] == 3 and result["queries"] == 2
    points = result["points"]
    assert [p["threshold"] for p in points] == sorted(p["threshold"] for p in points)

    chosen = result["chosen"]
    assert chosen["precision"] >= 0.5
    lower = [p for p in points if p["threshold"] < chosen["threshold"]]
    assert all(p["precision"] < 0.5 for p in lower)  # the smallest that reaches it
    assert f"min_score {chosen['threshold']!r} (raw" in printed
    assert f"= {chosen['normalized_threshold']!r} normalized" in printed
    printed_json = json.loads(printed[printed.index("{") : printed.rindex("}") + 1])
    assert printed_json == result["retriever"]
    assert printed_json["retriever"]["text_similarity_reranker"]["min_score"] == chosen["threshold"]

    # the printed retriever, run for each query, keeps exactly what the sweep counted
    kept = relevant_kept = 0
    for qid, text in data.queries.items():
        spec = retriever_from_dict(_fill(printed_json["retriever"], text))  # type: ignore[arg-type]
        hits = search(spec, backend=index, reranker=reranker, size=WINDOW, mode="external").hits
        assert all(h.score >= chosen["normalized_threshold"] for h in hits)
        kept += len(hits)
        relevant_kept += sum(data.qrels[qid].get(h.id, 0) >= 1 for h in hits)
    assert (kept, relevant_kept) == (chosen["kept"], chosen["relevant_kept"])


def test_calibrate_says_when_no_threshold_reaches_the_target(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = _dataset(tmp_path / "ds"), tmp_path / "out"
    argv = ["calibrate", "--dataset", str(ds), "--out", str(out)]
    argv += ["--model", str(tiny_cross_encoder), "--relevance", "3"]  # no grade 3 anywhere
    assert main([*argv, "--target-precision", "0.1"]) == 1
    assert "no threshold reaches precision 0.1 (the best is 0.0000" in capsys.readouterr().out
    assert json.loads((out / "calibration.json").read_text())["chosen"] is None


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--target-precision", "0"], "--target-precision must be in (0, 1], got 0.0"),
        (["--target-precision", "1.5"], "--target-precision must be in (0, 1], got 1.5"),
        (["--relevance", "0"], "--relevance must be >= 1, got 0"),
        (["--rows", "1"], "--rows must be >= 2, got 1"),
        (["--batch-size", "0"], "--batch-size must be >= 1, got 0"),
        (["--chunk-rescorer", '{"size": -1}'], "size must be greater than 0, was: -1"),
    ],
)
def test_calibrate_refuses_bad_options_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], extra: list[str], message: str
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    assert main(["calibrate", "--dataset", str(ds), "--out", str(out), *extra]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_calibrate_with_a_field_no_document_has(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["calibrate", "--dataset", str(ds), "--out", str(out)]
    assert main([*argv, "--model", str(tiny_cross_encoder), "--field", "abstract"]) == 2
    assert "no document of any window has field 'abstract'" in capsys.readouterr().err
    assert not (out / "calibration.json").exists()


def test_calibrate_does_not_overwrite_results_without_force(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = _dataset(tmp_path / "ds"), tmp_path / "out"
    out.mkdir()
    (out / "calibration.json").write_text("{}")
    assert main(["calibrate", "--dataset", str(ds), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "calibration.json" in err and "--force" in err
    assert (out / "calibration.json").read_text() == "{}"  # refused before any work


def test_calibrate_json_is_the_file_on_stdout(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = _dataset(tmp_path / "ds"), tmp_path / "out"
    argv = ["calibrate", "--dataset", str(ds), "--out", str(out), "--json"]
    argv += ["--model", str(tiny_cross_encoder), "--rank-window-size", str(WINDOW)]
    assert main(argv) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out) == json.loads((out / "calibration.json").read_text())
    assert "wrote" in captured.err
