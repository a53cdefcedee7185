"""semantic_text on LocalIndex with the packaged all-MiniLM-L6-v2: ES's default chunking (or
the field's chunking_settings), chunks embedded at index time and cached by content, the
``semantic`` query and ``match`` on the field scoring each document by its best chunk (ES:
``SemanticTextFieldMapper.semanticQuery`` builds a ``nested`` ``knn`` over the chunk
embeddings with ``ScoreMode.Max``; elastic/elasticsearch,
x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/mapper/
SemanticTextFieldMapper.java)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from es_rerank import LocalIndex
from es_rerank.embedding import embedder_for

pytestmark = pytest.mark.slow

DOCS = [
    {"_id": "wing", "body": "The lift of a swept wing at low speed. Flaps raise it further."},
    {"_id": "heat", "body": "Heat transfer in a hypersonic boundary layer heats the skin."},
    {"_id": "cats", "body": "Cats purr when they are content. Kittens play all day long."},
]


def _mapping(**field: Any) -> dict[str, Any]:
    return {"mappings": {"properties": {"body": {"type": "semantic_text", **field}}}}


def test_semantic_and_match_rank_by_the_best_chunk(tmp_path: Path) -> None:
    idx = LocalIndex(tmp_path, mapping=_mapping())
    assert idx.add(DOCS, progress=False).indexed == 3
    for query in (
        {"semantic": {"field": "body", "query": "a kitten purring"}},
        {"match": {"body": "a kitten purring"}},
    ):
        hits = idx.search_query(query, size=3)
        assert hits[0].id == "cats"
    # the score is the cosine transform of the best chunk's similarity, as ES computes it
    emb = embedder_for(None)
    q = emb.embed(["a kitten purring"])[0]
    chunks = idx.chunks("cats", "body")
    assert chunks == [DOCS[2]["body"]]  # 12 words: one chunk under the 250-word default
    best = max(float(v @ q) for v in emb.embed(chunks))
    hits = idx.search_query({"semantic": {"field": "body", "query": "a kitten purring"}}, size=1)
    assert hits[0].score == pytest.approx((1 + best) / 2, abs=1e-5)


def test_chunking_settings_and_best_chunk(tmp_path: Path) -> None:
    cats = " ".join(["Cats purr when they are content and warm."] * 3)
    wing = " ".join(["Shock waves form on a wing at high mach number."] * 3)
    settings = {"strategy": "sentence", "max_chunk_size": 20, "sentence_overlap": 0}
    idx = LocalIndex(tmp_path, mapping=_mapping(chunking_settings=settings))
    idx.add([{"_id": "mixed", "body": f"{cats} {wing}"}, DOCS[0]], progress=False)
    chunks = idx.chunks("mixed", "body")
    assert len(chunks) == 3 and all(len(c.split()) <= 20 for c in chunks)
    hits = idx.search_query({"match": {"body": "supersonic shock wave"}}, size=2)
    assert hits[0].id == "mixed"  # its wing chunks count, not an average with the cat ones


def test_reindex_embeds_only_what_changed(tmp_path: Path) -> None:
    idx = LocalIndex(tmp_path, mapping=_mapping())
    emb = embedder_for(None)
    idx.add(DOCS, progress=False)
    before = emb.encoded
    idx.add(DOCS, progress=False)
    assert emb.encoded == before  # every chunk came from the cache
    changed = [{**DOCS[0], "body": "A brand new text about rotor blades."}, *DOCS[1:]]
    idx.add(changed, progress=False)
    assert emb.encoded == before + 1
    assert idx.count() == 3
    top = idx.search_query({"semantic": {"field": "body", "query": "helicopter rotor"}}, size=1)
    assert top[0].id == "wing"


def test_bad_values_and_models_are_refused(tmp_path: Path) -> None:
    idx = LocalIndex(tmp_path / "a", mapping=_mapping())
    res = idx.add([{"_id": "n", "body": {"x": 1}}, DOCS[0]], progress=False)
    assert res.indexed == 1 and "expects text" in res.rejected[0].reason
    with pytest.raises(ValueError, match="not a semantic_text field"):
        idx.search_query({"semantic": {"field": "nope", "query": "x"}}, size=1)
    with pytest.raises(ValueError, match="sentence-transformers bi-encoder"):
        LocalIndex(tmp_path / "b", mapping=_mapping(inference_id="/no/such/model"))
