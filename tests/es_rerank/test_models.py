from pathlib import Path

import numpy as np
import pytest
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from es_rerank.models import ModelLoadError, load_model, packaged_bi_encoder_path


def test_cross_encoder_scores_are_raw_logits(tiny_cross_encoder: Path) -> None:
    m = load_model(tiny_cross_encoder)
    assert m.kind == "cross-encoder"
    texts = ["berlin is a city", "the cat", "paris is the capital of france"]
    got = m.score("where do people live", texts)
    tok = AutoTokenizer.from_pretrained(tiny_cross_encoder)
    hf = AutoModelForSequenceClassification.from_pretrained(tiny_cross_encoder).eval()
    import torch

    with torch.no_grad():
        enc = tok(["where do people live"] * 3, texts, padding=True, return_tensors="pt")
        want = hf(**enc).logits.reshape(-1).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    assert m.score("q", []).shape == (0,)


@pytest.mark.slow
def test_bi_encoder_scores_by_cosine() -> None:
    m = load_model(packaged_bi_encoder_path())
    assert m.kind == "bi-encoder"
    s = m.score("how many people live in berlin", ["Berlin has 3.5 million people.", "Cats purr."])
    assert s.min() >= -1.0 and s.max() <= 1.0 + 1e-6
    assert s[0] > s[1]


@pytest.mark.slow
def test_real_cross_encoder_prefers_the_relevant_passage(distilled_cross_encoder: Path) -> None:
    m = load_model(distilled_cross_encoder)
    s = m.score(
        "How many people live in Berlin?",
        ["Berlin has a population of 3.5 million registered inhabitants.", "Cats purr."],
    )
    assert s[0] > s[1]


def test_missing_directory_names_model_path_flag(tmp_path: Path) -> None:
    with pytest.raises(ModelLoadError, match=r"--model PATH"):
        load_model(str(tmp_path / "nope") + "/")
    with pytest.raises(ModelLoadError, match=r"no config.json"):
        load_model(tmp_path)


def test_unreachable_hub_id_says_what_was_tried(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError) as info:
        load_model("cross-encoder/certainly-not-cached-here")
    msg = str(info.value)
    assert "local Hugging Face cache" in msg and "HF_HUB_OFFLINE" in msg and "--model PATH" in msg


def test_an_unreachable_hub_is_one_short_line_naming_model_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # No network here: the hub is asked and cannot be reached. Only the short account of
    # what was tried remains, not huggingface_hub's advice ("outgoing traffic has been
    # disabled", "pass local_files_only=False") that the user never asked for.
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_HUB_ETAG_TIMEOUT", "2")
    monkeypatch.setenv("HF_HUB_DOWNLOAD_TIMEOUT", "2")
    with pytest.raises(ModelLoadError) as info:
        load_model("cross-encoder/certainly-not-cached-here")
    msg = str(info.value)
    assert "\n" not in msg and len(msg) < 250, msg
    assert "not in the local Hugging Face cache" in msg and "--model PATH" in msg
    assert "outgoing traffic" not in msg and "local_files_only" not in msg
