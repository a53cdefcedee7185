"""Model families through every front: the shim over real HTTP (its --instruction, a
request's ``instruct``, /info), ``es-rerank eval`` and ``upload-model``."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from es_rerank.cli import main
from es_rerank.elastic.upload import UploadError, check_traceable, trace_model
from inference_shim.config import settings_from_argv
from tests.es_rerank.elastic.test_upload_trace import QUERY, TEXTS, es_style_scores
from tests.helpers.shim import ShimProcess
from tests.helpers.tiny_beir import write_tiny_beir
from tests.helpers.tiny_families import build_family

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def llm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_family(tmp_path_factory.mktemp("llm"), "llm-reranker")


def _st(path: Path, query: str, texts: list[str], prompt: str | None) -> list[float]:
    import torch
    from sentence_transformers import CrossEncoder

    ce = CrossEncoder(str(path), activation_fn=torch.nn.Identity())
    return [float(s) for s in ce.predict([(query, t) for t in texts], prompt=prompt)]


def test_the_shim_serves_an_llm_reranker_with_its_instructions(
    llm: Path, tiny_cross_encoder: Path
) -> None:
    served, asked = "Find passages about the city", "Find passages about animals"
    texts = [*TEXTS, "the dog is slow"]
    shim = ShimProcess(["--model", str(llm)], env={"SHIM_INSTRUCTION": served})
    try:
        with shim.client() as c:
            info = c.get("/info").json()
            tei = c.post("/rerank", json={"query": QUERY, "texts": texts, "raw_scores": True})
            cohere = c.post(
                "/v1/rerank",
                json={"query": QUERY, "documents": texts, "instruct": asked, "score_mode": "raw"},
            )
            blank = c.post("/v2/rerank", json={"query": QUERY, "documents": texts, "instruct": ""})
    finally:
        assert shim.terminate() == 0
    assert (info["family"], info["template"], info["instruction"]) == (
        "llm-reranker",
        "model's chat template",
        served,
    )
    assert tei.status_code == 200, tei.text
    got = {r["index"]: r["score"] for r in tei.json()}
    np.testing.assert_allclose(
        [got[i] for i in range(len(texts))], _st(llm, QUERY, texts, served), atol=1e-4
    )
    assert cohere.status_code == 200, cohere.text
    got = {r["index"]: r["relevance_score"] for r in cohere.json()["results"]}
    np.testing.assert_allclose(
        [got[i] for i in range(len(texts))], _st(llm, QUERY, texts, asked), atol=1e-4
    )
    assert blank.status_code == 400 and "instruct" in blank.json()["error"]  # as an empty query


def test_an_instruction_to_a_model_without_a_prompt_is_a_422(tiny_cross_encoder: Path) -> None:
    shim = ShimProcess(["--model", str(tiny_cross_encoder)])
    try:
        with shim.client() as c:
            r = c.post("/v1/rerank", json={"query": "q", "documents": ["a"], "instruct": "find"})
            info = c.get("/info").json()
    finally:
        assert shim.terminate() == 0
    assert r.status_code == 422
    assert r.json()["error"].startswith("`instruct`: ") and "not an LLM reranker" in r.text
    assert (info["family"], info["template"], info["instruction"]) == ("bert", None, None)


def test_instruction_flag_and_environment() -> None:
    s = settings_from_argv(["--model", "m"], environ={"SHIM_INSTRUCTION": "find it"})
    assert s.instruction == "find it"
    s = settings_from_argv(
        ["--model", "m", "--instruction", "x"], environ={"SHIM_INSTRUCTION": "y"}
    )
    assert s.instruction == "x"
    assert settings_from_argv(["--model", "m"], environ={}).instruction is None


def test_eval_runs_an_llm_reranker_with_an_instruction(
    llm: Path, tiny_cross_encoder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ds = write_tiny_beir(tmp_path / "ds")
    argv = ["eval", "--dataset", str(ds), "--model", str(llm), "--json"]
    assert main([*argv, "--instruction", "find aerodynamics", "--rank-window-size", "3"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["model"]["family"], report["model"]["instruction"]) == (
        "llm-reranker",
        "find aerodynamics",
    )
    assert set(report["metrics"]) == {"bm25", "reranked"}
    bert = ["eval", "--dataset", str(ds), "--model", str(tiny_cross_encoder)]
    assert main([*bert, "--instruction", "find it"]) == 2
    assert "instruction: " in capsys.readouterr().err


def test_upload_model_refuses_an_llm_reranker_and_names_the_shim(
    llm: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(UploadError, match=r"LLM reranker.*inference-shim serve.*custom"):
        check_traceable(llm)
    assert main(["upload-model", "--model", str(llm), "--trace-only", str(tmp_path)]) == 2
    assert "LLM reranker" in capsys.readouterr().err
    assert not (tmp_path / "traced_pytorch_model.pt").exists()
    seq_cls = build_family(tmp_path / "seq-cls", "llm-seq-cls")
    with pytest.raises(UploadError, match="LLM reranker"):
        check_traceable(seq_cls)


@pytest.mark.parametrize("family", ["deberta-v2", "electra"])
def test_upload_model_traces_encoder_families(family: str, tmp_path: Path) -> None:
    from es_rerank.models import load_model

    model = build_family(tmp_path / family, family)
    trace_model(str(model), tmp_path / "traced", progress=None)
    got = es_style_scores(tmp_path / "traced", model, QUERY, TEXTS)
    np.testing.assert_allclose(got, load_model(model).score(QUERY, TEXTS), atol=1e-4)
