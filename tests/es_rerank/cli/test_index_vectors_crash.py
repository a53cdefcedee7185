"""Kill ``es-rerank index`` with SIGKILL while it indexes documents with dense vectors: every
committed document keeps its vector (a knn query for its own vector finds it first), and a
re-run completes the index with each document once."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pytest

from es_rerank import LocalIndex
from es_rerank.cli import main
from tests.helpers.kill_indexing import kill_after_first_commit

pytestmark = pytest.mark.slow

N_DOCS, DIMS = 20_000, 8
MAPPING = {
    "mappings": {
        "properties": {
            "text": {"type": "text"},
            "vec": {
                "type": "dense_vector",
                "dims": DIMS,
                "similarity": "l2_norm",
                "index_options": {"type": "hnsw"},
            },
        }
    }
}


def _vector(i: int) -> list[float]:
    return np.random.default_rng(i).standard_normal(DIMS).round(4).tolist()


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
def test_killed_run_keeps_committed_vectors(tmp_path: Path) -> None:
    corpus, path, mapping = tmp_path / "v.jsonl", tmp_path / "idx", tmp_path / "m.json"
    mapping.write_text(json.dumps(MAPPING))
    with corpus.open("w") as fh:
        for i in range(N_DOCS):
            fh.write(json.dumps({"_id": f"d{i}", "text": f"doc {i}", "vec": _vector(i)}) + "\n")
    seen = kill_after_first_commit(
        path, str(corpus), "--mapping", str(mapping), "--batch-size", "20"
    )
    index = LocalIndex(path)
    partial = index.count()
    assert seen <= partial < N_DOCS
    committed = [h.id for h in index.search_query(None, size=N_DOCS)]
    for doc_id in (committed[0], committed[len(committed) // 2], committed[-1]):
        knn = {"field": "vec", "query_vector": _vector(int(doc_id[1:])), "k": 1}
        hit = index.search_query({"knn": knn}, size=1)[0]
        assert hit.id == doc_id and hit.score == pytest.approx(1.0)  # its own vector
    n = min(partial, 10_000)
    every = index.knn_search(
        {"field": "vec", "query_vector": [0.0] * DIMS, "k": n, "num_candidates": n}, size=n
    )
    assert len(every) == n == len({doc_id for doc_id, _ in every})

    assert (
        main(
            [
                "index",
                str(corpus),
                "--local",
                str(path),
                "--mapping",
                str(mapping),
                "--batch-size",
                "5000",
            ]
        )
        == 0
    )
    index = LocalIndex(path)
    assert index.count() == N_DOCS
    for i in (0, partial, N_DOCS - 1):
        hit = index.search_query(
            {"knn": {"field": "vec", "query_vector": _vector(i), "k": 1}}, size=1
        )[0]
        assert hit.id == f"d{i}"
    ids = [h.id for h in index.search_query(None, size=N_DOCS + 10)]
    assert len(ids) == N_DOCS == len(set(ids))
