from __future__ import annotations

import importlib.util
import json
import tempfile
from pathlib import Path

import pytest

from es_rerank import LocalIndex, evaluate
from es_rerank.cli import main
from es_rerank.cli.eval import first_stage_query
from es_rerank.datasets import load_beir
from tests.helpers.tiny_beir import write_tiny_beir


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
    assert (out / "ndcg10_change.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # the local index is cached under --out and reused
    cached = [p for p in out.iterdir() if p.name.startswith("index-ds-")]
    assert len(cached) == 1 and LocalIndex(cached[0]).count() == 4


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
    assert main([*argv, "--runtime", "torch", "--dtype", "int8"]) == 2
    assert "use runtime onnx or openvino" in capsys.readouterr().err


def test_eval_rejects_bad_window(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ds = write_tiny_beir(tmp_path / "ds")
    assert main(["eval", "--dataset", str(ds), "--rank-window-size", "0"]) == 2
    assert "--rank-window-size" in capsys.readouterr().err


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
    index = LocalIndex(next(p for p in out.iterdir() if p.name.startswith("index-ds-")))
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
