"""Every conformance case over every executor available here (see executors.py)."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest

import es_rerank
import es_rerank.asyncio
from tests.conformance.cases import CASES, Case
from tests.conformance.executors import EXECUTORS


def _bind_endpoints(node: Any, endpoint: Any) -> Any:
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key == "inference_id" and isinstance(value, str) and value.startswith("@"):
                out[key] = endpoint(value[1:])
            else:
                out[key] = _bind_endpoints(value, endpoint)
        return out
    if isinstance(node, list):
        return [_bind_endpoints(v, endpoint) for v in node]
    return node


@pytest.mark.parametrize("executor", sorted(EXECUTORS))
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(case: Case, executor: str, tmp_path: Path) -> None:
    with EXECUTORS[executor](case.docs, tmp_path) as run:
        retriever = _bind_endpoints(case.retriever, run.endpoint)

        arguments: dict[str, Any] = {
            "backend": run.backend,
            "reranker": run.reranker,
            "size": case.size,
            "from_": case.from_,
            "mode": run.mode,
            "min_score_space": case.min_score_space,
        }

        def go() -> es_rerank.SearchResult:
            if not run.asynchronous:
                return es_rerank.search(retriever, **arguments)

            async def awaited() -> es_rerank.SearchResult:
                try:
                    return await es_rerank.asyncio.search(retriever, **arguments)
                finally:
                    if run.aclose is not None:
                        await run.aclose()

            return asyncio.run(awaited())

        if case.error is not None:
            with pytest.raises(case.error) as info:
                go()
            if case.message is not None:
                assert case.message in str(info.value)
            return
        result = go()
    assert result.mode == run.mode
    assert [h.id for h in result.hits] == case.ids, case.notes
    if case.scores is not None:
        assert [h.score for h in result.hits] == pytest.approx(case.scores, rel=1e-5)
    if case.total is not None:
        assert (result.total, result.total_relation) == (case.total, "eq")
    assert [h.rank for h in result.hits] == list(
        range(case.from_ + 1, case.from_ + len(result.hits) + 1)
    )
