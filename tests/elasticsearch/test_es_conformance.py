"""The client's conformance suite on a real cluster, natively and externally, and the two
must agree: for the native runs ES calls, through ``hugging_face`` rerank endpoints, shims
serving the very rules (tests/conformance/scorers.py) the external runs call in-process."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import es_rerank
from es_rerank.elastic import create_endpoint, delete_endpoint, endpoint_body
from tests.conformance.cases import CASES, Case
from tests.conformance.executors import EXECUTORS
from tests.conformance.scorers import SCORERS
from tests.elasticsearch.conftest import Cluster
from tests.helpers.shim import ShimProcess, shim_for_cluster

pytestmark = pytest.mark.elasticsearch


KEY = "conformance"


@pytest.fixture(scope="module")
def conformance_endpoints(cluster: Cluster) -> Iterator[None]:
    """One shim and one endpoint per rule; the environment the suite's ES executors read."""
    if not cluster.url:
        pytest.skip("the conformance executors connect with ES_URL (not a cloud id)")
    prefix = cluster.unique("es-rerank-conf")
    shims: list[ShimProcess] = []
    created: list[str] = []
    with pytest.MonkeyPatch.context() as env:
        env.setenv("ES_URL", cluster.url)
        if not os.environ.get("ES_API_KEY") and os.environ.get("ES_USERNAME"):
            # The suite's executors authenticate with ES_API_KEY only: lend them one.
            key = cluster.client.security.create_api_key(name=prefix, expiration="1h")
            env.setenv("ES_API_KEY", key["encoded"])
        try:
            for name in SCORERS:
                shim = shim_for_cluster(
                    ["--scorer", f"tests.elasticsearch.conformance_rules:{name}"], api_key=KEY
                )
                shims.append(shim)
                inference_id = f"{prefix}-{name.replace('_', '-')}"
                body = endpoint_body(
                    "hugging_face", url=shim.url_for(cluster.shim_host), api_key=KEY
                )
                create_endpoint(cluster.client, inference_id=inference_id, body=body)
                created.append(inference_id)
            env.setenv("ES_RERANK_CONFORMANCE_INFERENCE_ID", prefix + "-{scorer}")
            yield
        finally:
            for inference_id in created:
                delete_endpoint(cluster.client, inference_id=inference_id, force=True)
            for shim in shims:
                shim.terminate()


def _bind(node: Any, endpoint: Any) -> Any:
    """``"inference_id": "@rule"`` -> the executor's endpoint for that rule."""
    if isinstance(node, dict):
        return {
            k: endpoint(v[1:])
            if k == "inference_id" and isinstance(v, str) and v.startswith("@")
            else _bind(v, endpoint)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_bind(v, endpoint) for v in node]
    return node


def _run(executor: str, case: Any, tmp_path: Path) -> Any:
    with EXECUTORS[executor](case.docs, tmp_path) as run:
        try:
            return es_rerank.search(
                _bind(case.retriever, run.endpoint),
                backend=run.backend,
                reranker=run.reranker,
                size=case.size,
                from_=case.from_,
                mode=run.mode,  # type: ignore[arg-type]
                min_score_space=case.min_score_space,  # type: ignore[arg-type]
            )
        except Exception as exc:  # compared below: both runs must fail alike
            return exc


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_native_and_external_agree(conformance_endpoints: None, case: Case, tmp_path: Path) -> None:
    native = _run("es-native", case, tmp_path / "native")
    external = _run("es-external", case, tmp_path / "external")
    if case.error is not None:
        assert isinstance(native, case.error), f"native: {native!r}"
        assert isinstance(external, case.error), f"external: {external!r}"
        if case.message is not None:
            assert case.message in str(native) and case.message in str(external)
        return
    assert not isinstance(native, BaseException), f"native failed: {native!r}"
    assert not isinstance(external, BaseException), f"external failed: {external!r}"
    assert (native.mode, external.mode) == ("native", "external")
    assert [h.id for h in native.hits] == [h.id for h in external.hits] == case.ids, case.notes
    native_scores = [h.score for h in native.hits]
    assert native_scores == pytest.approx([h.score for h in external.hits], rel=1e-5)
    if case.scores is not None:
        assert native_scores == pytest.approx(case.scores, rel=1e-5)
