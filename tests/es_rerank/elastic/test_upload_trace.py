"""``es-rerank upload-model --trace-only``: the TorchScript model eland writes scores pairs
exactly like the cross-encoder it came from, fed the way ES's text_similarity task feeds it."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from es_rerank.cli import main
from es_rerank.elastic.upload import CONFIG_FILE, UploadError, check_traceable, trace_model
from es_rerank.models import load_model

QUERY = "how many people live in berlin"
TEXTS = [
    "berlin has a population of 3 million people",
    "the cat is fast",
    "paris is the capital of france, a city with a museum on the river",
    "elasticsearch can rerank the top documents of a query with a model score",
    "berlin",
]


def es_style_scores(traced_dir: Path, model_dir: Path, query: str, texts: list[str]) -> np.ndarray:
    """Feed the TorchScript model as ES does for BERT-style text_similarity: one batch of
    [CLS] query [SEP] text [SEP] pairs (second truncated at max_sequence_length), padded,
    with (input_ids, attention_mask, token_type_ids, position_ids); score = the logit."""
    import torch
    from transformers import AutoTokenizer

    config = json.loads((traced_dir / CONFIG_FILE).read_text())
    bert = config["inference_config"]["text_similarity"]["tokenization"]["bert"]
    tok = AutoTokenizer.from_pretrained(str(model_dir))
    enc = tok(
        [query] * len(texts),
        texts,
        padding=True,
        truncation="only_second",
        max_length=bert["max_sequence_length"],
        return_tensors="pt",
    )
    ids = enc["input_ids"]
    positions = torch.arange(ids.size(1), dtype=torch.long).unsqueeze(0).expand_as(ids)
    model = torch.jit.load(str(traced_dir / "traced_pytorch_model.pt"))
    with torch.no_grad():
        out = model(ids, enc["attention_mask"], enc["token_type_ids"], positions)
    logits = out[0] if isinstance(out, tuple) else out
    return np.asarray(logits[:, 0].numpy(), dtype=np.float32)


@pytest.fixture(scope="module")
def traced_tiny(tiny_cross_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("traced-tiny")
    code = main(["upload-model", "--model", str(tiny_cross_encoder), "--trace-only", str(out)])
    assert code == 0
    return out


def test_trace_only_writes_model_config_and_vocab(traced_tiny: Path) -> None:
    assert (traced_tiny / "traced_pytorch_model.pt").stat().st_size > 10_000
    config = json.loads((traced_tiny / CONFIG_FILE).read_text())
    assert config["model_type"] == "pytorch"
    sim = config["inference_config"]["text_similarity"]
    assert sim["tokenization"]["bert"]["truncate"] == "second"
    assert sim["tokenization"]["bert"]["max_sequence_length"] == 128
    vocab = json.loads((traced_tiny / "vocabulary.json").read_text())["vocabulary"]
    assert vocab[:3] == ["[PAD]", "[UNK]", "[CLS]"]


def test_traced_scores_equal_cross_encoder_predict(
    traced_tiny: Path, tiny_cross_encoder: Path
) -> None:
    expected = load_model(tiny_cross_encoder).score(QUERY, TEXTS)
    got = es_style_scores(traced_tiny, tiny_cross_encoder, QUERY, TEXTS)
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    # One pair at a time (no padding) gives the same numbers too.
    single = [es_style_scores(traced_tiny, tiny_cross_encoder, QUERY, [t])[0] for t in TEXTS]
    np.testing.assert_allclose(single, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.slow
def test_traced_real_cross_encoder_matches(distilled_cross_encoder: Path, tmp_path: Path) -> None:
    traced = trace_model(str(distilled_cross_encoder), tmp_path, progress=None)
    expected = load_model(distilled_cross_encoder).score(QUERY, TEXTS)
    got = es_style_scores(tmp_path, distilled_cross_encoder, QUERY, TEXTS)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    assert list(np.argsort(-got)) == list(np.argsort(-expected))
    assert traced.config["inference_config"]["text_similarity"]["tokenization"]["bert"][
        "do_lower_case"
    ]


def test_refuses_bi_encoder_with_reason(tmp_path: Path) -> None:
    from es_rerank.models import packaged_bi_encoder_path

    with pytest.raises(UploadError, match=r"bi-encoder.*classification head"):
        check_traceable(Path(packaged_bi_encoder_path()))
    code = main(
        ["upload-model", "--model", packaged_bi_encoder_path(), "--trace-only", str(tmp_path)]
    )
    assert code == 2
    assert not (tmp_path / "traced_pytorch_model.pt").exists()


def test_refuses_multi_label_and_headless_models(tmp_path: Path) -> None:
    (tmp_path / "config.json").write_text(
        json.dumps({"architectures": ["BertForSequenceClassification"], "num_labels": 3})
    )
    with pytest.raises(UploadError, match="3 output labels"):
        check_traceable(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"architectures": ["BertModel"]}))
    with pytest.raises(UploadError, match="no classification head"):
        check_traceable(tmp_path)


def test_missing_model_path_names_the_flag(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["upload-model", "--model", "./no/such/model", "--trace-only", str(tmp_path)])
    assert code == 2
    assert "--model PATH" in capsys.readouterr().err


def test_torch_pin_is_read_from_eland_metadata() -> None:
    from importlib import metadata

    from es_rerank.elastic.upload import eland_torch_pin, torch_version_warning

    pin = eland_torch_pin()
    assert pin is not None
    assert any(r.startswith(f"torch=={pin}") for r in metadata.requires("eland") or [])
    assert torch_version_warning(pin, pin) is None
    assert pin in (torch_version_warning("99.0.0", pin) or "")


@pytest.mark.slow
def test_quantized_trace_loads_and_scores_close(tiny_cross_encoder: Path, tmp_path: Path) -> None:
    trace_model(str(tiny_cross_encoder), tmp_path, quantize=True, progress=None)
    expected = load_model(tiny_cross_encoder).score(QUERY, TEXTS)
    got = es_style_scores(tmp_path, tiny_cross_encoder, QUERY, TEXTS)
    # int8 weights: close, not equal.
    np.testing.assert_allclose(got, expected, atol=0.05)


def test_max_model_input_length_sets_what_es_feeds_the_model(
    tiny_cross_encoder: Path, tmp_path: Path
) -> None:
    code = main(["upload-model", "--model", str(tiny_cross_encoder), "--trace-only",
                 str(tmp_path), "--max-model-input-length", "64"])  # fmt: skip
    assert code == 0
    config = json.loads((tmp_path / CONFIG_FILE).read_text())
    bert = config["inference_config"]["text_similarity"]["tokenization"]["bert"]
    assert bert["max_sequence_length"] == 64  # the tokenizer alone says 128


def test_max_model_input_length_must_be_positive(
    tiny_cross_encoder: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["upload-model", "--model", str(tiny_cross_encoder), "--trace-only",
                 str(tmp_path), "--max-model-input-length", "0"])  # fmt: skip
    assert code != 0
    assert "--max-model-input-length must be at least 1, got 0" in capsys.readouterr().err
