from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.helpers.tiny_models import build_tiny_cross_encoder

SHARED = Path(__file__).resolve().parents[1].parent / "shared"
ROOT = Path(__file__).resolve().parents[1]


def pytest_configure(config: pytest.Config) -> None:
    """Under pytest-xdist (``make test`` runs ``-n 2``) each worker gets its own share of the
    CPUs: models size their thread pools from the CPUs a process may use
    (``es_rerank.runtime.hardware.default_threads``), and its subprocesses inherit the share,
    so two workers on two cores run one thread each instead of four fighting for two."""
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    count = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1"))
    if worker is None or count < 2 or not hasattr(os, "sched_setaffinity"):
        return
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) >= count:
        os.sched_setaffinity(0, cpus[int(worker.removeprefix("gw")) % count :: count])


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist with ``--dist loadgroup`` one worker runs all the tests of a module,
    in order, with the module's fixtures, as a serial run does. A test that names its own
    group keeps it (the docs examples: one group per page, whose blocks share a sandbox)."""
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            path = item.path
            group = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
            item.add_marker(pytest.mark.xdist_group(group))


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
def es_rerank_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One ``ES_RERANK_CACHE`` for the session (each xdist worker has its own): the docs
    examples run with it, and the tests that build the demo index reuse the index the demo
    page built (entries are keyed by their content, so a reused one is the same index)."""
    return tmp_path_factory.mktemp("es-rerank-cache")


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
