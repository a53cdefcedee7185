from __future__ import annotations

import time
import types
from collections.abc import Iterator

import pytest

import es_rerank.rerankers.retry as retry_module


@pytest.fixture
def sleeps(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[float]]:
    """Records the waits the retry policy asks for instead of sleeping."""
    waits: list[float] = []
    fake = types.SimpleNamespace(sleep=waits.append, time=time.time)
    monkeypatch.setattr(retry_module, "time", fake)
    yield waits
