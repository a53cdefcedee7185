from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.shim import battery
from tests.shim.server_proc import ShimProcess


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


@pytest.fixture(scope="session")
def model_shim(spread_cross_encoder: Path) -> Iterator[ShimProcess]:
    """The real server with the tiny model and small limits that tests can exceed. Its
    tests are about scoring, not admission: generous --max-queue-wait and
    --request-timeout keep its honest refusals on a heavily loaded machine (a 300-text
    request at 10 times the cores' load) out of them."""
    shim = ShimProcess(
        [
            "--model",
            str(spread_cross_encoder),
            "--max-client-batch-size",
            "300",
            "--max-text-chars",
            "5000",
            "--max-payload-bytes",
            "200000",
            "--max-batch-tokens",
            "512",
            "--max-queue-wait",
            "300",
            "--request-timeout",
            "600",
            "--device",
            "cpu",
        ]
    )
    yield shim
    assert shim.terminate() == 0


@pytest.fixture(scope="session")
def scorer_shim() -> Iterator[ShimProcess]:
    shim = ShimProcess(["--scorer", "tests.shim.scorers:overlap"])
    yield shim
    assert shim.terminate() == 0


@pytest.fixture(scope="session")
def keyed_shim(tiny_cross_encoder: Path) -> Iterator[ShimProcess]:
    """The real server with the tiny model, an API key and the limits the bad-input
    battery is written against."""
    shim = ShimProcess(
        [
            "--model",
            str(tiny_cross_encoder),
            "--device",
            "cpu",
            "--max-client-batch-size",
            str(battery.MAX_TEXTS),
            "--max-text-chars",
            str(battery.MAX_CHARS),
        ],
        env={"SHIM_API_KEY": battery.KEY},
    )
    yield shim
    assert shim.terminate() == 0
    # Every client mistake was answered as one: the server never logged a fault.
    assert "unexpected error" not in "".join(shim.stderr)
