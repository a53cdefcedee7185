from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.helpers.tiny_models import build_tiny_cross_encoder

SHARED = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def tiny_cross_encoder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny seeded BERT cross-encoder saved to a temp dir."""
    return build_tiny_cross_encoder(tmp_path_factory.mktemp("tiny-ce"))


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the project; tests that need it skip when it is absent."""
    if not SHARED.is_dir():
        pytest.skip(f"{SHARED} is absent (it sits beside the project in CI and dev machines)")
    return SHARED


@pytest.fixture(scope="session")
def distilled_cross_encoder(shared_dir: Path) -> Path:
    path = shared_dir / "models" / "minilm-l6-distilled-ce"
    if not (path / "config.json").is_file():
        pytest.skip(f"{path} is absent")
    return path


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the session: each model is exported once per runtime."""
    return tmp_path_factory.mktemp("runtime-cache")


@pytest.fixture(scope="session")
def spread_cross_encoder(
    tiny_cross_encoder: Path, tmp_path_factory: pytest.TempPathFactory
) -> Path:
    """The tiny cross-encoder with its classifier scaled up, so different texts get clearly
    different scores (a mix-up between requests would show)."""
    import torch
    from transformers import BertForSequenceClassification

    path = tmp_path_factory.mktemp("spread-ce")
    shutil.copytree(tiny_cross_encoder, path, dirs_exist_ok=True)
    model = BertForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        model.classifier.weight.mul_(1000.0)
    model.save_pretrained(path)
    return path
