from __future__ import annotations

import shutil
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def runtime_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One export cache for the session: each model is exported once per runtime."""
    return tmp_path_factory.mktemp("runtime-cache")


@pytest.fixture(scope="session")
def spread_model(tiny_cross_encoder: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tiny cross-encoder with its classifier scaled up, so texts get clearly different
    scores and a mix-up or a wrong runtime shows."""
    import torch
    from transformers import BertForSequenceClassification

    path = tmp_path_factory.mktemp("spread-rt")
    shutil.copytree(tiny_cross_encoder, path, dirs_exist_ok=True)
    model = BertForSequenceClassification.from_pretrained(path)
    with torch.no_grad():
        model.classifier.weight.mul_(1000.0)
    model.save_pretrained(path)
    return path
