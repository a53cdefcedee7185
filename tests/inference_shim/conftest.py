from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.shim import ShimProcess
from tests.inference_shim import battery


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
    shim = ShimProcess(["--scorer", "tests.inference_shim.scorers:overlap"])
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
