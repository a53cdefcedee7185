"""``es-rerank upload-model`` against a recording HTTP server: the exact requests eland and
elasticsearch-py send (config, definition parts, vocabulary, start, endpoint)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from es_rerank.cli import main
from es_rerank.elastic.upload import es_model_id_for
from tests.helpers.recording_es import RecordingES, recording_es

MODEL_ID = "tiny-ce"


@pytest.fixture
def es(monkeypatch: pytest.MonkeyPatch) -> Iterator[RecordingES]:
    for var in ("ES_URL", "ES_CLOUD_ID", "ES_API_KEY", "ES_USERNAME", "ES_PASSWORD"):
        monkeypatch.delenv(var, raising=False)
    with recording_es() as rec:
        monkeypatch.setenv("ES_URL", rec.url)
        base = rf"/_ml/trained_models/{MODEL_ID}"
        missing = {"error": {"type": "resource_not_found_exception", "reason": "not found"}}
        rec.on("GET", base, (404, {**missing, "status": 404}))
        rec.on("PUT", base, (200, {"model_id": MODEL_ID}))
        rec.on("PUT", base + r"/definition/\d+", (200, {"acknowledged": True}))
        rec.on("PUT", base + "/vocabulary", (200, {"acknowledged": True}))
        rec.on("POST", base + "/deployment/_start", (200, {"assignment": {}}))
        rec.on("PUT", r"/_inference/rerank/[^/]+", (200, {"inference_id": "el"}))
        yield rec


@pytest.mark.slow
def test_upload_start_and_endpoint_requests(
    es: RecordingES, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(
        ["upload-model", "--model", str(tiny_cross_encoder), "--es-model-id", MODEL_ID,
         "--start", "--create-endpoint", "el"]
    )  # fmt: skip
    assert code == 0
    base = f"/_ml/trained_models/{MODEL_ID}"
    calls = es.calls()
    parts = [c for c in calls if c[1].startswith(base + "/definition/")]
    assert calls[0] == ("GET", "/")
    assert calls[1:4] == [("GET", "/"), ("GET", base), ("PUT", base)]
    assert calls[4 : 4 + len(parts)] == [
        ("PUT", f"{base}/definition/{i}") for i in range(len(parts))
    ]
    assert calls[4 + len(parts) :] == [
        ("PUT", f"{base}/vocabulary"),
        ("POST", f"{base}/deployment/_start"),
        ("PUT", "/_inference/rerank/el"),
    ]
    reqs = {(r.method, r.path): r for r in es.requests}
    config = reqs[("PUT", base)].body
    assert config["model_type"] == "pytorch"
    assert "text_similarity" in config["inference_config"]
    # The definition parts reassemble into exactly one TorchScript file of the declared size.
    chunks = [reqs[("PUT", f"{base}/definition/{i}")].body for i in range(len(parts))]
    blob = b"".join(base64.b64decode(c["definition"]) for c in chunks)
    assert {c["total_parts"] for c in chunks} == {len(parts)}
    assert {c["total_definition_length"] for c in chunks} == {len(blob)}
    assert blob[:2] == b"PK"  # a TorchScript archive is a zip file
    vocab = reqs[("PUT", f"{base}/vocabulary")].body
    assert vocab["vocabulary"][:3] == ["[PAD]", "[UNK]", "[CLS]"]
    assert reqs[("POST", f"{base}/deployment/_start")].query["wait_for"] == ["started"]
    assert reqs[("PUT", "/_inference/rerank/el")].body == {
        "service": "elasticsearch",
        "service_settings": {"model_id": MODEL_ID, "num_allocations": 1, "num_threads": 1},
    }
    assert capsys.readouterr().out.strip() == MODEL_ID


@pytest.mark.slow
def test_existing_model_needs_clear_previous(
    es: RecordingES, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    base = rf"/_ml/trained_models/{MODEL_ID}"
    es.on("GET", base, (200, {"count": 1, "trained_model_configs": [{"model_id": MODEL_ID}]}))
    argv = ["upload-model", "--model", str(tiny_cross_encoder), "--es-model-id", MODEL_ID]
    assert main(argv) == 2
    assert "--clear-previous" in capsys.readouterr().err
    assert not [c for c in es.calls() if c[0] == "PUT"]

    not_deployed = {"error": {"type": "status_exception", "reason": "not deployed"}}
    es.on("POST", base + "/deployment/_stop", (409, not_deployed))
    es.on("DELETE", base, (200, {"acknowledged": True}))
    assert main([*argv, "--clear-previous"]) == 0
    calls = es.calls()
    stop = calls.index(("POST", base + "/deployment/_stop"))
    assert calls[stop + 1] == ("DELETE", base)
    assert calls[stop + 2] == ("PUT", base)


def test_old_cluster_is_refused(
    es: RecordingES, tiny_cross_encoder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    info: dict[str, Any] = {"cluster_name": "old", "version": {"number": "8.15.0"}}
    es.on("GET", "/", (200, info))
    assert main(["upload-model", "--model", str(tiny_cross_encoder)]) == 2
    assert "eland 9.x uploads only to 9.x" in capsys.readouterr().err


def test_create_endpoint_needs_start(tiny_cross_encoder: Path, es: RecordingES) -> None:
    argv = ["upload-model", "--model", str(tiny_cross_encoder), "--es-model-id", MODEL_ID]
    assert main([*argv, "--create-endpoint", "el"]) == 2


def test_derived_model_id_follows_eland() -> None:
    from eland.ml.pytorch.transformers import elasticsearch_model_id

    for name in [
        "cross-encoder/ms-marco-MiniLM-L6-v2",
        "/tmp/x/My Model",
        "BAAI/bge-reranker-base",
    ]:
        assert es_model_id_for(name) == elasticsearch_model_id(name)
    assert json.dumps(es_model_id_for("A/B")) == '"a__b"'


@pytest.mark.slow
def test_eland_spellings_are_accepted(
    es: RecordingES,
    tiny_cross_encoder: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # eland_import_hub_model's reranker command line, as its docs write it
    monkeypatch.delenv("HF_TOKEN", raising=False)
    argv = ["upload-model", "--hub-model-id", str(tiny_cross_encoder), "--task-type",
            "text_similarity", "--hub-access-token", "hf_secret",
            "--es-model-id", MODEL_ID]  # fmt: skip
    assert main(argv) == 0, capsys.readouterr().err
    assert capsys.readouterr().out.strip() == MODEL_ID
    import os

    assert os.environ.get("HF_TOKEN") == "hf_secret"  # what huggingface_hub reads
    monkeypatch.delenv("HF_TOKEN", raising=False)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--task-type", "text_embedding"], "--task-type text_embedding: upload-model uploads"),
        (["--es-model-id", "..bad"], "--es-model-id '..bad' is not a valid Elasticsearch model"),
        (["--es-model-id", "UPPER"], "is not a valid Elasticsearch model id"),
    ],
)
def test_other_tasks_and_invalid_ids_are_refused_before_any_work(
    tiny_cross_encoder: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    message: str,
) -> None:
    argv = ["upload-model", "--model", str(tiny_cross_encoder), "--es-url", "http://127.0.0.1:9"]
    assert main([*argv, *extra]) == 2
    assert message in capsys.readouterr().err


def test_a_relative_model_path_gives_a_valid_es_model_id() -> None:
    import re

    valid = re.compile(r"[a-z0-9](?:[a-z0-9_\-.]*[a-z0-9])?")  # ES's MlStrings
    for name in ["../shared/models/minilm-l6-distilled-ce", "./My Model/", "~/m/ce.v2/", "x"]:
        model_id = es_model_id_for(name)
        assert valid.fullmatch(model_id), (name, model_id)
    assert es_model_id_for("../shared/models/minilm-l6-distilled-ce") == (
        "shared__models__minilm-l6-distilled-ce"
    )
