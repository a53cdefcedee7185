from __future__ import annotations

from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def spread_model(spread_cross_encoder: Path) -> Path:
    """The runtime tests' name for ``spread_cross_encoder`` (tests/conftest.py)."""
    return spread_cross_encoder
