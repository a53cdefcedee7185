from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

from es_rerank import LocalIndex, evaluate
from es_rerank.cli import main
from es_rerank.datasets import load_beir
from es_rerank.evaluation.first_stages import first_stage_query
from es_rerank.index_cache import cached_corpus_index
from tests.helpers.tiny_beir import write_tiny_beir


@pytest.fixture(autouse=True)
def _own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    cache = tmp_path / "cache"
    monkeypatch.setenv("ES_RERANK_CACHE", str(cache))
    return cache


@pytest.mark.slow
def test_eval_writes_table_json_and_plot(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(tiny_cross_encoder)]
    assert main([*argv, "--rank-window-size", "3"]) == 0
    printed = capsys.readouterr().out
    assert "ndcg@10" in printed and "wins" in printed and "rerank" in printed
    result = json.loads((out / "results.json").read_text())
    assert result["queries"] == 2 and result["rank_window_size"] == 3
    assert result["model"]["kind"] == "cross-encoder"
    # BM25 puts the right documents first on this corpus
    assert result["per_query"]["bm25"]["mrr@10"] == {"1": 1.0, "2": 1.0}
    w, t, lo = result["ndcg@10_wins_ties_losses"]
    assert w + t + lo == 2
    assert set(result["seconds"]) == {"index", "model_load", "bm25", "rerank"}
    assert (result["model"]["runtime"], result["model"]["dtype"]) == ("torch", "fp32")

    # The figure states what it shows: read back from the PNG's text chunks.
    from PIL import Image

    with Image.open(out / "ndcg10_change.png") as png:
        assert png.format == "PNG"
        title, caption = png.info["Title"], png.info["Description"]
    before = result["metrics"]["bm25"]["ndcg@10"]
    after = result["metrics"]["reranked"]["ndcg@10"]
    assert title == "ds (2 queries): NDCG@10 change, reranked - BM25"
    assert caption.splitlines() == [
        f"model: {tiny_cross_encoder.parent.name}/{tiny_cross_encoder.name} (cross-encoder), "
        "runtime torch fp32, window 3",
        f"mean NDCG@10: BM25 {before:.4f} -> reranked {after:.4f} ({after - before:+.4f})",
        f"per query: {w} wins, {t} ties, {lo} losses",
    ]
    assert not any(out.glob("index-*"))  # the index is cached by corpus, not under --out


def test_the_figure_carries_its_caption_as_text() -> None:
    from es_rerank.evaluation.plots import change_figure

    result = {
        "dataset": "/x/cranfield",
        "queries": 3,
        "rank_window_size": 100,
        "model": {"path": "/m/all-MiniLM-L6-v2", "kind": "bi-encoder", "runtime": "torch",
                  "dtype": "fp32"},
        "metrics": {"bm25": {"ndcg@10": 0.339}, "reranked": {"ndcg@10": 0.389}},
        "ndcg@10_wins_ties_losses": [2, 0, 1],
    }  # fmt: skip
    fig = change_figure(result, {"1": 0.2, "2": -0.1, "3": 0.05})
    (ax,) = fig.axes
    assert ax.get_title() == "cranfield (3 queries): NDCG@10 change, reranked - BM25"
    (caption,) = [t.get_text() for t in fig.texts]
    assert "m/all-MiniLM-L6-v2 (bi-encoder), runtime torch fp32, window 100" in caption
    assert "mean NDCG@10: BM25 0.3390 -> reranked 0.3890 (+0.0500)" in caption
    assert "per query: 2 wins, 0 ties, 1 losses" in caption
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [-0.1, 0.05, 0.2]


def test_eval_json_is_the_whole_report_on_stdout(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--model", str(tiny_cross_encoder), "--json"]
    assert main([*argv, "--rank-window-size", "3"]) == 0
    captured = capsys.readouterr()
    report = json.loads(captured.out)  # stdout holds the JSON document and nothing else
    assert report["queries"] == 2 and report["rank_window_size"] == 3
    assert set(report["metrics"]) == {"bm25", "reranked"}
    assert "rerank" in captured.err  # progress went to stderr
    assert not (tmp_path / "eval-out").exists()  # no files without --out
    # with --out, the files hold the same report
    assert main([*argv, "--out", str(out)]) == 0
    report = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "results.json").read_text())
    assert report["metrics"] == saved["metrics"]
    assert (out / "ndcg10_change.png").is_file()


@pytest.mark.slow
def test_eval_does_not_overwrite_results_without_force(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str], _own_cache: Path
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(tiny_cross_encoder),
            "--rank-window-size", "3"]  # fmt: skip
    assert main(argv) == 0
    (entry,) = (_own_cache / "indexes").iterdir()
    built = (entry / "entry.json").stat().st_mtime_ns
    first = (out / "results.json").read_text()
    capsys.readouterr()
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "already holds results.json and ndcg10_change.png" in err and "--force" in err
    assert (out / "results.json").read_text() == first
    assert main([*argv, "--force"]) == 0
    # a second --out evaluates the same collection on the index built by the first run
    assert main([*argv[:4], str(tmp_path / "other"), *argv[5:]]) == 0
    assert [p.name for p in (_own_cache / "indexes").iterdir()] == [entry.name]
    assert (entry / "entry.json").stat().st_mtime_ns == built
    assert LocalIndex.open(entry).count() == 4


@pytest.mark.parametrize("value", ["0", "-3"])
def test_eval_limit_queries_must_be_positive(
    tmp_path: Path, value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = write_tiny_beir(tmp_path / "ds")
    assert main(["eval", "--dataset", str(ds), "--limit-queries", value]) == 2
    err = capsys.readouterr().err
    assert f"--limit-queries must be >= 1, got {value}" in err
    assert not (tmp_path / "cache").exists()  # refused before any work


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("onnxruntime") is None, reason="onnx extra absent")
def test_eval_runs_on_the_runtime_it_is_given(
    tmp_path: Path,
    tiny_cross_encoder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("ES_RERANK_CACHE", str(tmp_path / "cache"))
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(tiny_cross_encoder)]
    assert main([*argv, "--runtime", "onnx", "--dtype", "int8", "--rank-window-size", "3"]) == 0
    assert "runtime onnx int8" in capsys.readouterr().out
    result = json.loads((out / "results.json").read_text())
    assert (result["model"]["runtime"], result["model"]["dtype"]) == ("onnx", "int8")
    assert [p.name.split("-")[0] for p in (tmp_path / "cache" / "runtimes").iterdir()] == [
        "onnx",
        "onnx",
    ]
    assert main([*argv, "--runtime", "torch", "--dtype", "int8", "--force"]) == 2
    assert "use runtime onnx or openvino" in capsys.readouterr().err


def test_eval_rejects_bad_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = write_tiny_beir(tmp_path / "ds")
    assert main(["eval", "--dataset", str(ds), "--rank-window-size", "0"]) == 2
    assert "--rank-window-size" in capsys.readouterr().err


@pytest.mark.slow
def test_cranfield_bm25_is_in_the_standard_range(shared_dir: Path) -> None:
    data = load_beir(shared_dir / "datasets" / "cranfield")
    with tempfile.TemporaryDirectory() as tmp:
        index = LocalIndex(tmp)
        res = index.add(data.corpus, progress=False)
        assert res.indexed == 1400 and res.rejected == []
        run = {
            q: [h.id for h in index.search_query(first_stage_query(text), size=100)]
            for q, text in data.queries.items()
        }
    ev = evaluate(run, data.qrels)
    assert len(ev.per_query["ndcg@10"]) == 225
    assert 0.30 <= ev.aggregate["ndcg@10"] <= 0.43


def test_eval_with_chunk_rescorer_sends_best_chunks(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from es_rerank.chunking import ChunkRescorer, best_chunks

    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    body = {
        "size": 2,
        "chunking_settings": {"strategy": "word", "max_chunk_size": 10, "overlap": 1},
    }
    # a long abstract: several 10-word chunks, of which at most 2 go per document
    long_text = " ".join(["the lift of a swept wing at low speed and high angle"] * 4)
    with (ds / "corpus.jsonl").open("a") as fh:
        fh.write(json.dumps({"_id": "d5", "title": "long wing", "text": long_text}) + "\n")
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(tiny_cross_encoder)]
    assert main([*argv, "--rank-window-size", "3", "--chunk-rescorer", json.dumps(body)]) == 0
    printed = capsys.readouterr().out
    rescorer = ChunkRescorer.from_dict(body)
    assert f"chunk_rescorer: {json.dumps(rescorer.to_dict())}" in printed
    result = json.loads((out / "results.json").read_text())
    assert result["chunk_rescorer"] == rescorer.to_dict()
    # pairs scored = the chunks sent for every windowed document that has text
    index = cached_corpus_index(ds / "corpus.jsonl", name=ds.name)  # built by the run
    data = load_beir(ds)
    expected = documents = 0
    for text in data.queries.values():
        for hit in index.search_query(first_stage_query(text), size=3):
            if hit.source.get("text"):
                documents += 1
                expected += len(best_chunks(hit.source["text"], text, rescorer))
    assert result["pairs_scored"] == expected > documents  # d5 sent two chunks


def test_eval_refuses_bad_chunk_rescorer_before_any_work(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--out", str(out)]
    assert main([*argv, "--chunk-rescorer", '{"size": 0}']) == 2
    assert "size must be greater than 0, was: 0" in capsys.readouterr().err
    assert main([*argv, "--chunk-rescorer", "[1"]) == 2
    assert "--chunk-rescorer is not valid JSON" in capsys.readouterr().err
    assert not out.exists()


@pytest.mark.slow
def test_eval_compares_first_stages_with_and_without_reranker(
    tmp_path: Path, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds, out = write_tiny_beir(tmp_path / "ds"), tmp_path / "out"
    argv = ["eval", "--dataset", str(ds), "--out", str(out), "--model", str(tiny_cross_encoder)]
    assert main([*argv, "--rank-window-size", "3", "--first-stages", "all"]) == 0
    printed = capsys.readouterr().out
    result = json.loads((out / "first_stages.json").read_text())
    stages = result["first_stages"]
    assert list(stages) == ["bm25", "dense", "hybrid-rrf", "hybrid-linear"]
    for name in ("bm25", "dense", "hybrid-rrf"):
        assert name in printed
        row = stages[name]
        for kind in ("first", "reranked"):
            assert 0.0 <= row[kind]["metrics"]["ndcg@10"] <= 1.0
    # BM25 and the embeddings both put the judged documents first on this corpus
    assert stages["bm25"]["first"]["metrics"]["mrr@10"] == 1.0
    assert stages["dense"]["first"]["metrics"]["mrr@10"] == 1.0
    assert stages["hybrid-rrf"]["first"]["metrics"]["mrr@10"] == 1.0
    from PIL import Image

    with Image.open(out / "first_stages.png") as png:
        assert "NDCG@10 by first stage" in png.info["Title"]
    linear = stages["hybrid-linear"]
    assert "first" in linear or "linear" in linear["error"]  # ran, or says why not
    assert main([*argv, "--first-stages", "bm25,sparse", "--force"]) == 2
    assert "unknown ['sparse']" in capsys.readouterr().err
