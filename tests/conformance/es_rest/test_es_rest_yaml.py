"""Elasticsearch's own YAML REST tests for the retrievers (yaml/, see README.md), run
through es_rerank.search: externally over LocalIndex here (sync and async); externally and
natively on a real cluster when ES_URL is set.

exclusions.yml says, per case and target, what is excluded (with why) and what fails on a
named gap (xfail, strict on local-external: a gap that closes fails loudly until the list
is updated). test_exclusions_* keep that list true.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conformance.es_rest.runner import load_rules, run_case
from tests.conformance.es_rest.suite import Case, all_cases
from tests.conformance.es_rest.targets import LocalTarget

CASES = all_cases()
LOCAL = "local-external"
ASYNC_LOCAL = "async-local-external"
TARGETS = (LOCAL, ASYNC_LOCAL, "es-external", "es-native")


def entry_for(case: Case, target: str) -> dict[str, Any] | None:
    """The case's exclusions.yml entry if it applies to ``target`` (the async local target
    shares the local one's entries)."""
    entry = load_rules().cases.get(case.id)
    key = LOCAL if target == ASYNC_LOCAL else target
    if entry is None or key not in entry.get("targets", [LOCAL]):
        return None
    return dict(entry)


@pytest.fixture(scope="module")
def es_shim_url() -> Iterator[str | None]:
    """A shim serving the port of ES's test reranking service, reachable by the cluster."""
    if not os.environ.get("ES_URL"):
        yield None
        return
    from tests.conformance.es_rest.es_targets import SHIM_KEY, SHIM_SCORER
    from tests.elasticsearch.conftest import _default_shim_host
    from tests.helpers.shim import shim_for_cluster

    shim = shim_for_cluster(["--scorer", SHIM_SCORER], api_key=SHIM_KEY)
    host = os.environ.get("ES_RERANK_SHIM_HOST") or _default_shim_host(
        os.environ.get("ES_URL"), in_docker=False
    )
    try:
        yield shim.url_for(host)
    finally:
        shim.terminate()


@contextlib.contextmanager
def open_target(name: str, tmp_path: Path, shim_url: str | None) -> Iterator[Any]:
    if name in (LOCAL, ASYNC_LOCAL):
        yield LocalTarget(tmp_path, asynchronous=name == ASYNC_LOCAL)
        return
    if not os.environ.get("ES_URL"):
        pytest.skip("ES_URL is not set: no Elasticsearch cluster to run the YAML cases against")
    from es_rerank.elastic import ConnectionOptions
    from tests.conformance.es_rest.es_targets import EsTarget

    client = ConnectionOptions.resolve(request_timeout=120).client()
    target = EsTarget(client, name.removeprefix("es-"), shim_url)
    try:
        yield target
    finally:
        target.close()


@pytest.mark.parametrize(
    "target",
    [t if t.endswith("local-external") else pytest.param(t, marks=pytest.mark.elasticsearch)
     for t in TARGETS],
)  # fmt: skip
@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_yaml_case(
    case: Case, target: str, tmp_path: Path, es_shim_url: str | None, request: Any
) -> None:
    entry = entry_for(case, target)
    if entry is not None and "excluded" in entry:
        pytest.skip(f"excluded: {entry['excluded']}")
    if entry is not None and "gap" in entry:
        request.applymarker(
            pytest.mark.xfail(
                strict=target in (LOCAL, ASYNC_LOCAL),
                reason=f"gap ({entry.get('owner', 'unowned')}): {entry['gap']}",
            )
        )
    with open_target(target, tmp_path, es_shim_url) as t:
        outcome = run_case(case, t)
    assert outcome.passed, outcome.failure


def test_exclusions_name_existing_cases() -> None:
    known = {c.id for c in CASES}
    stale = sorted(set(load_rules().cases) - known)
    assert not stale, f"exclusions.yml names cases the YAML files lack: {stale}"


def test_exclusions_have_a_reason_or_a_named_gap() -> None:
    for case_id, entry in load_rules().cases.items():
        assert sum(k in entry for k in ("excluded", "gap", "set_aside")) == 1, case_id
        if "gap" in entry:
            assert entry.get("owner"), f"{case_id}: a gap names who closes it"
        assert set(entry.get("targets", [LOCAL])) <= set(TARGETS), case_id


@pytest.mark.parametrize(
    "case",
    [c for c in CASES if (e := entry_for(c, LOCAL)) is not None and "excluded" in e],
    ids=lambda c: c.id,
)
def test_excluded_case_still_cannot_pass(case: Case, tmp_path: Path) -> None:
    """An excluded case that starts passing over LocalIndex means its reason is stale."""
    outcome = run_case(case, LocalTarget(tmp_path))
    assert not outcome.passed, (
        f"{case.id} passes over LocalIndex now: remove it from exclusions.yml "
        f"(excluded because: {entry_for(case, LOCAL)})"
    )
