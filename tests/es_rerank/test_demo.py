from __future__ import annotations

import io
import re
from pathlib import Path

import pytest

from es_rerank.demo import (
    build_demo_index,
    first_stage_query,
    pydoc_passages,
    run_demo,
    semantic_query,
)
from es_rerank.rerank_window import resolve_model
from tests.helpers import DEMO_INDEX_GROUP

# One xdist worker runs these after the demo page's examples (tests/docs), in one session
# cache: the hybrid demo reuses the embedded index the page built.
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group(DEMO_INDEX_GROUP)]


def test_demo_prints_first_stage_and_reranked_side_by_side(
    tmp_path: Path, tiny_cross_encoder: Path
) -> None:
    out = io.StringIO()
    q = "catch an exception"
    assert (
        run_demo(
            model=str(tiny_cross_encoder),
            queries=[q],
            window=10,
            cache=tmp_path,
            out=out,
            first_stage="bm25",
        )
        == 0
    )
    text = out.getvalue()
    assert "BM25 (first stage)" in text and "reranked" in text and f"query: {q}" in text
    lines = text.splitlines()
    rows = [i for i, line in enumerate(lines) if "(was #" in line]
    assert len(rows) == 5
    # under each reranked hit: one line of its own passage, the sentence nearest the query
    passages = {p["_id"]: p["text"] for p in pydoc_passages()}
    for i in rows:
        hit_id = lines[i].split("(was #")[0].split()[-1]
        shown = lines[i + 1]
        assert shown.startswith("      ") and len(shown) <= 100
        words = re.findall(r"\w+", shown)[1:-1]  # the ends may be cut words
        assert words and set(words) <= set(re.findall(r"\w+", passages[hit_id]))
    # the index is built once, in the cache's indexes/: a second build reuses the same files
    index = build_demo_index(tmp_path, progress=False)
    assert index.path.parent == tmp_path / "indexes"
    stamp = index.path / "entry.json"
    before = stamp.stat().st_mtime_ns
    assert build_demo_index(tmp_path, progress=False).count() == len(list(pydoc_passages()))
    assert stamp.stat().st_mtime_ns == before


def test_hybrid_demo_shows_each_stage_rank(es_rerank_cache: Path, tiny_cross_encoder: Path) -> None:
    out = io.StringIO()
    q = "loop over a sequence and stop early"
    cache = es_rerank_cache  # the embedded index is built once a session
    assert (
        run_demo(model=str(tiny_cross_encoder), queries=[q], window=20, cache=cache, out=out) == 0
    )
    text = out.getvalue()
    assert "RRF(BM25, kNN" in text and "bm25   knn   rrf" in text
    index = build_demo_index(cache, progress=False, semantic=True)
    bm25 = [h.id for h in index.search_query(first_stage_query(q), size=20)]
    knn = [h.id for h in index.search_query(semantic_query(q), size=20)]
    rows = [
        line.split() for line in text.splitlines() if re.match(r"^\s+\d+\s+-?\d+\.\d{3}\s", line)
    ]
    assert len(rows) == 5
    for row in rows:
        hit_id, ranks = row[2], row[3:6]
        for rank, ranking in zip(ranks, (bm25, knn), strict=False):
            assert rank == (f"#{ranking.index(hit_id) + 1}" if hit_id in ranking else "-")
        assert ranks[2].startswith("#")  # every reranked hit came through the fusion
    assert set(knn) - set(bm25), "kNN brings passages BM25 did not find"


def test_demo_index_of_another_corpus_is_built_apart(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    current = build_demo_index(tmp_path, progress=False)
    fewer = list(pydoc_passages())[:5]  # another Python's topics: another corpus
    monkeypatch.setattr("es_rerank.demo.pydoc_passages", lambda: iter(fewer))
    other = build_demo_index(tmp_path, progress=False)
    assert other.path != current.path and other.count() == 5
    assert current.search_query({"term": {"tags": "try"}}, size=1)  # left as it was


def test_without_hub_the_packaged_bi_encoder_is_used_with_a_notice(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("ES_RERANK_MODEL", raising=False)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HOME", str(tmp_path))  # an empty cache
    notice = io.StringIO()
    model = resolve_model(None, notice=notice)
    assert model.kind == "bi-encoder"
    lines = notice.getvalue().splitlines()
    assert len(lines) == 2 and all(line.startswith("notice: ") for line in lines)
    assert "ms-marco-MiniLM-L6-v2 is not cached here (HF_HUB_OFFLINE is set)" in lines[0]
    assert "--model PATH" in lines[1]
    # a sentence of our own, not the hub's exception text
    assert "Error" not in notice.getvalue() and "Tried" not in notice.getvalue()


def test_an_explicit_model_that_fails_is_an_error_not_a_fallback(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from es_rerank.models import ModelLoadError

    monkeypatch.setenv("ES_RERANK_MODEL", str(tmp_path / "missing-model"))
    with pytest.raises(ModelLoadError, match="--model PATH"):
        resolve_model(None)
