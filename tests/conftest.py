from __future__ import annotations

import os
import shutil
from collections import Counter
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


#: Session shims whose modules form one xdist group: their tests read what the other modules
#: sent it (``test_no_server_error_was_answered`` counts the battery's requests), and one
#: worker starts one shim for them all, as a serial run does.
SHARED_SHIMS = ("keyed_shim", "model_shim")


def _module(item: pytest.Item) -> str:
    path = item.path
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist with ``--dist loadgroup`` one worker runs all the tests of a module,
    in order, with the module's fixtures, as a serial run does; the modules of a session shim
    in :data:`SHARED_SHIMS` share a worker. A test that names its own group keeps it (the docs
    examples: one group per page, whose blocks share a sandbox)."""
    shared: dict[str, str] = {}
    for item in items:
        used = [f for f in SHARED_SHIMS if f in getattr(item, "fixturenames", ())]
        if used:
            shared.setdefault(_module(item), used[0])
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            module = _module(item)
            item.add_marker(pytest.mark.xdist_group(shared.get(module, module)))
    if os.environ.get("PYTEST_XDIST_WORKER") and getattr(config.option, "loadgroup", False):
        _group_node_ids(items)


def _group_node_ids(items: list[pytest.Item]) -> None:
    """What ``--dist loadgroup`` reads: each test's id ends in ``@GROUP``. xdist 3.8 writes
    the suffix to ``_nodeid``, which pytest 9.1+ no longer reads (it keeps a ``NodeId`` in
    ``_id``), so without this every test is its own group. An id must also be unique, or the
    scheduler keeps one test of the id: schemathesis gives every operation's test the
    function's id (the operation is only in its name), so such a test gets its name in it."""
    seen = Counter(item.nodeid for item in items)
    for item in items:
        nodeid = item.nodeid
        if seen[nodeid] > 1:
            nodeid = f"{nodeid.rsplit('::', 1)[0]}::{item.name}"
        groups = sorted({str(m.args[0]) for m in item.iter_markers("xdist_group") if m.args})
        if "@" not in nodeid.rsplit("]", 1)[-1]:
            nodeid = f"{nodeid}@{'_'.join(groups)}"
        _set_node_id(item, nodeid)


def _set_node_id(item: pytest.Item, nodeid: str) -> None:
    if hasattr(item, "_id"):  # pytest 9.1+
        from _pytest.nodeid import NodeId

        item._id = NodeId.parse(nodeid)
    else:
        item._nodeid = nodeid


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
