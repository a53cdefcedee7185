"""dense_vector fields and the knn query on LocalIndex: ES's score transforms, exact and HNSW
search, filters, persistence of the graph beside the index, and the knn retriever (alone and
fused with BM25 by rrf) run externally over the local index.

The score transforms are ES's ``DenseVectorFieldMapper.VectorSimilarity.score`` for float
vectors: elastic/elasticsearch, server/src/main/java/org/elasticsearch/index/mapper/vectors/
DenseVectorFieldMapper.java at 23494d1850e0633a5d5365fe789c941599546218 (L2_NORM
``1 / (1 + d * d)``, COSINE and DOT_PRODUCT ``(1 + s) / 2``, MAX_INNER_PRODUCT
``s < 0 ? 1 / (1 - s) : s + 1``).
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from es_rerank import LocalIndex, search
from es_rerank.backends.vectors import EXACT_BELOW

DIMS = 16
#: the beam the docs state (bench/vector_search.py's sweep chose it)
MIN_EF_SEARCH_DOC = 400


def _mapping(similarity: str = "cosine", index_type: str = "hnsw") -> dict[str, Any]:
    return {
        "mappings": {
            "properties": {
                "text": {"type": "text"},
                "tag": {"type": "keyword"},
                "vec": {
                    "type": "dense_vector",
                    "dims": DIMS,
                    "similarity": similarity,
                    "index_options": {"type": index_type},
                },
            }
        }
    }


def _vectors(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((20, DIMS))
    x = centres[rng.integers(0, 20, n)] + 0.3 * rng.standard_normal((n, DIMS))
    unit: np.ndarray = (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)
    return unit


def _index(path: Path, vecs: np.ndarray, **kw: Any) -> LocalIndex:
    idx = LocalIndex(path, mapping=_mapping(**kw))
    docs = [
        {
            "_id": f"d{i}",
            "text": f"doc {i}",
            "tag": "even" if i % 2 == 0 else "odd",
            "vec": v.tolist(),
        }
        for i, v in enumerate(vecs)
    ]
    assert idx.add(docs, progress=False, batch_size=5000).indexed == len(docs)
    return idx


@pytest.mark.parametrize(
    ("similarity", "doc", "query", "expected"),
    [
        ("l2_norm", [3.0, 4.0], [0.0, 0.0], 1 / (1 + 25)),
        ("cosine", [2.0, 0.0], [0.0, 5.0], 0.5),
        ("cosine", [1.0, 1.0], [1.0, 0.0], (1 + math.sqrt(0.5)) / 2),
        ("dot_product", [0.6, 0.8], [1.0, 0.0], (1 + 0.6) / 2),
        ("max_inner_product", [2.0, 1.0], [1.0, 1.0], 3.0 + 1),
        ("max_inner_product", [-2.0, 0.0], [1.0, 0.0], 1 / (1 + 2.0)),
    ],
)
def test_scores_are_es_transforms(
    tmp_path: Path, similarity: str, doc: list[float], query: list[float], expected: float
) -> None:
    mapping = {
        "mappings": {
            "properties": {"v": {"type": "dense_vector", "dims": 2, "similarity": similarity}}
        }
    }
    idx = LocalIndex(tmp_path, mapping=mapping)
    idx.add([{"_id": "a", "v": doc}], progress=False)
    hits = idx.search_query({"knn": {"field": "v", "query_vector": query, "k": 1}}, size=1)
    assert [h.id for h in hits] == ["a"]
    assert hits[0].score == pytest.approx(expected, rel=1e-6)


@pytest.mark.parametrize("index_type", ["hnsw", "int8_hnsw"])
def test_graph_search_finds_the_exact_neighbours(tmp_path: Path, index_type: str) -> None:
    n = EXACT_BELOW * 2  # above the exact-search cut-off: the HNSW graph answers
    vecs = _vectors(n)
    idx = _index(tmp_path, vecs, index_type=index_type)
    assert list((tmp_path / "vectors").glob("vec.*.usearch")), "graph saved beside the index"
    queries = _vectors(30, seed=1)
    recalls = []
    for q in queries:
        exact = np.argsort(-(vecs @ q), kind="stable")[:10]
        hits = idx.search_query(
            {"knn": {"field": "vec", "query_vector": q.tolist(), "k": 10, "num_candidates": 50}},
            size=10,
        )
        got = [int(h.id[1:]) for h in hits]
        recalls.append(len(set(got) & set(exact.tolist())) / 10)
        # scores are exact float scores of the returned documents, best first
        want = (1 + vecs[got] @ q) / 2
        np.testing.assert_allclose([h.score for h in hits], want, rtol=1e-5)
        assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert np.mean(recalls) >= 0.95


def test_int8_graph_answers_are_rescored_over_the_whole_beam(tmp_path: Path) -> None:
    # 60 near-copies of one vector, about as far apart as int8's resolution (1/127): the
    # 8-bit graph's order of them is mostly rounding. With ES's default num_candidates (15 for
    # k=10) only a list cut by that order used to be rescored in float (1 of the true top 10
    # found here); the whole beam is rescored now, so the top 10 are exactly float's.
    rng = np.random.default_rng(5)
    base = _vectors(1, seed=9)[0]
    near = base + 1e-2 * rng.standard_normal((60, DIMS)).astype(np.float32)
    far = _vectors(EXACT_BELOW * 2, seed=4)
    vecs = np.concatenate([near / np.linalg.norm(near, axis=1, keepdims=True), far])
    idx = _index(tmp_path, vecs, index_type="int8_hnsw")
    exact = np.argsort(-(vecs @ base), kind="stable")[:10]
    hits = idx.search_query(
        {"knn": {"field": "vec", "query_vector": base.tolist(), "k": 10}}, size=10
    )
    assert [int(h.id[1:]) for h in hits] == exact.tolist()


def test_default_search_settings_are_the_documented_ones() -> None:
    # the numbers the module documents (and the docs repeat) are the ones the code uses
    from es_rerank.backends import vectors
    from es_rerank.backends.local_knn import NUM_CANDS_FACTOR, NUM_CANDS_LIMIT

    doc = vectors.__doc__ or ""
    spec = vectors.DenseVectorSpec.from_mapping("v", {"type": "dense_vector", "dims": 4})
    assert (spec.similarity, spec.index_type, spec.m, spec.ef_construction) == (
        "cosine",
        "int8_hnsw",
        16,
        100,
    )
    assert (vectors.MIN_EF_SEARCH, vectors.EXACT_BELOW) == (MIN_EF_SEARCH_DOC, 500)
    assert (NUM_CANDS_FACTOR, NUM_CANDS_LIMIT) == (1.5, 10_000)
    for phrase in (
        f"beam of at least {vectors.MIN_EF_SEARCH}",
        f"fewer than {vectors.EXACT_BELOW} eligible",
        f"m {spec.m}, ef_construction {spec.ef_construction}",
    ):
        assert phrase in " ".join(doc.split()), phrase


def test_filter_is_applied_during_the_search(tmp_path: Path) -> None:
    vecs = _vectors(EXACT_BELOW * 2, seed=2)
    idx = _index(tmp_path, vecs)
    q = vecs[1]  # an odd document's own vector
    body = {"field": "vec", "query_vector": q.tolist(), "k": 5, "num_candidates": 20}
    even = idx.search_query({"knn": {**body, "filter": {"term": {"tag": "even"}}}}, size=10)
    assert len(even) == 5 and all(int(h.id[1:]) % 2 == 0 for h in even)
    evens = np.arange(0, len(vecs), 2)
    assert [h.id for h in even] == [f"d{i}" for i in evens[np.argsort(-(vecs[evens] @ q))[:5]]]
    # a very selective filter still gives its k best (exact over the few it keeps)
    few = idx.search_query(
        {"knn": {**body, "filter": {"terms": {"text": ["7", "9", "11"]}}, "k": 2}}, size=10
    )
    assert len(few) == 2 and {h.id for h in few} <= {"d7", "d9", "d11"}


def test_similarity_threshold_and_bool_combination(tmp_path: Path) -> None:
    mapping = _mapping("l2_norm", "flat")
    mapping["mappings"]["properties"]["vec"]["dims"] = 2
    idx = LocalIndex(tmp_path, mapping=mapping)
    idx.add(
        [
            {"_id": "near", "text": "alpha", "vec": [0.0, 1.0]},
            {"_id": "far", "text": "beta", "vec": [0.0, 3.0]},
        ],
        progress=False,
    )
    knn = {"field": "vec", "query_vector": [0.0, 0.0], "k": 2, "similarity": 2.0}
    assert [h.id for h in idx.search_query({"knn": knn}, size=10)] == ["near"]  # distance <= 2
    both = idx.search_query(
        {"bool": {"should": [{"knn": {**knn, "boost": 2.0}}, {"match": {"text": "beta"}}]}},
        size=10,
    )
    by_id = {h.id: h.score for h in both}
    assert by_id["near"] == pytest.approx(2 * 0.5)  # 1 / (1 + 1), boosted
    assert set(by_id) == {"near", "far"}  # far matches the text clause only


def test_bad_vectors_and_queries_are_refused(tmp_path: Path) -> None:
    mapping = _mapping("dot_product", "hnsw")
    idx = LocalIndex(tmp_path, mapping=mapping)
    unit = [1.0] + [0.0] * (DIMS - 1)
    res = idx.add(
        [
            {"_id": "ok", "vec": unit},
            {"_id": "long", "vec": [1.0] * DIMS},
            {"_id": "short", "vec": [1.0]},
            {"_id": "text", "vec": "nope"},
        ],
        progress=False,
    )
    assert res.indexed == 1
    reasons = {r.id: r.reason for r in res.rejected}
    assert "can only be used with unit-length vectors" in reasons["long"]
    assert "different number of dimensions [1]" in reasons["short"]
    assert "array of numbers" in reasons["text"]
    with pytest.raises(ValueError, match="different number of dimensions"):
        idx.search_query({"knn": {"field": "vec", "query_vector": [1.0], "k": 1}}, size=1)
    with pytest.raises(ValueError, match=r"cannot be less than \[k\]"):
        idx.search_query(
            {"knn": {"field": "vec", "query_vector": unit, "k": 5, "num_candidates": 2}}, size=1
        )
    with pytest.raises(ValueError, match="not dense_vector"):
        idx.search_query({"knn": {"field": "tag", "query_vector": unit}}, size=1)
    with pytest.raises(ValueError, match="similarity 'hamming'"):
        LocalIndex(tmp_path / "x", mapping=_mapping("hamming"))


def test_graph_persists_and_follows_later_commits(tmp_path: Path) -> None:
    vecs = _vectors(EXACT_BELOW + 500, seed=3)
    _index(tmp_path, vecs)
    saved = sorted((tmp_path / "vectors").glob("vec.*.usearch"))
    reopened = LocalIndex(tmp_path)
    q = vecs[10].tolist()
    body = {"knn": {"field": "vec", "query_vector": q, "k": 3, "num_candidates": 30}}
    assert reopened.search_query(body, size=3)[0].id == "d10"
    assert sorted((tmp_path / "vectors").glob("vec.*.usearch")) == saved  # loaded, not rebuilt

    # another writer replaces d10's vector and adds a new document: readers follow the commit
    other = LocalIndex(tmp_path)
    moved = (-vecs[10]).tolist()
    other.add([{"_id": "d10", "vec": moved}, {"_id": "new", "vec": q}], progress=False)
    hits = reopened.search_query(body, size=3)
    assert hits[0].id == "new" and "d10" not in [h.id for h in hits]
    assert (
        reopened.search_query({"knn": {"field": "vec", "query_vector": moved, "k": 1}}, size=1)[
            0
        ].id
        == "d10"
    )
    assert reopened.count() == len(vecs) + 1


def test_knn_retriever_and_hybrid_rrf_run_externally(tmp_path: Path) -> None:
    vecs = _vectors(200, seed=4)
    idx = _index(tmp_path, vecs)
    q = vecs[42].tolist()
    knn = {"knn": {"field": "vec", "query_vector": q, "k": 5, "num_candidates": 20}}
    res = search(knn, backend=idx, size=5, mode="external")
    assert res.hits[0].id == "d42" and len(res.hits) == 5
    hybrid = {
        "rrf": {
            "retrievers": [
                {"standard": {"query": {"match": {"text": "7"}}}},
                knn,
            ],
            "rank_window_size": 10,
        }
    }
    fused = search(hybrid, backend=idx, size=3, mode="external")
    top = [h.id for h in fused.hits]
    assert set(top[:2]) == {"d7", "d42"}  # the best of each retriever, fused


@pytest.mark.slow
def test_query_vector_builder_runs_the_local_model(tmp_path: Path) -> None:
    from es_rerank.embedding import embedder_for

    emb = embedder_for(None)
    texts = {"wing": "lift of a swept wing", "cat": "a cat purrs on the sofa"}
    mapping = {
        "mappings": {
            "properties": {
                "tag": {"type": "keyword"},
                "v": {"type": "dense_vector", "dims": emb.dims, "similarity": "cosine"},
            }
        }
    }
    idx = LocalIndex(tmp_path, mapping=mapping)
    vectors = emb.embed(list(texts.values()))
    docs = [{"_id": k, "tag": k, "v": v.tolist()} for k, v in zip(texts, vectors, strict=True)]
    idx.add(docs, progress=False)
    builder = {"text_embedding": {"model_id": "all-MiniLM-L6-v2", "model_text": "kitten"}}
    knn = {"knn": {"field": "v", "query_vector_builder": builder, "k": 2, "num_candidates": 2}}
    res = search(knn, backend=idx, size=2, mode="external")
    assert [h.id for h in res.hits] == ["cat", "wing"]
    assert res.hits[0].score == pytest.approx((1 + float(vectors[1] @ emb.query("kitten"))) / 2)
    # the retriever's filter applies during the search: k hits among the filtered ones
    knn["knn"]["filter"] = {"term": {"tag": "wing"}}
    assert [h.id for h in search(knn, backend=idx, size=2, mode="external").hits] == ["wing"]
    with pytest.raises(ValueError, match="query_vector_builder"):
        idx.search_query({"knn": {"field": "v", "query_vector_builder": {"x": {}}}}, size=1)


def test_eval_mapping_takes_beir_corpus_lines(tmp_path: Path) -> None:
    # `es-rerank eval --first-stages` indexes BEIR corpora with passages-semantic; their lines
    # carry a `metadata` object, which a strict mapping refused for every document
    idx = LocalIndex(tmp_path, mapping="passages-semantic")
    line = {"_id": "1", "title": "wing", "text": "lift of a wing", "metadata": {"url": "u"}}
    result = idx.add([line, {**line, "_id": "2", "text": "heat transfer"}], progress=False)
    assert (result.indexed, result.rejected) == (2, [])
    hits = idx.search_query(
        {"semantic": {"field": "text_semantic", "query": "aerofoil lift"}}, size=2
    )
    assert [h.id for h in hits] == ["1", "2"]
