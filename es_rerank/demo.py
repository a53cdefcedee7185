"""The demo: rerank searches over Python's own documentation, offline, with no server.

The corpus is cut from ``pydoc_data.topics`` (the help texts every CPython ships), so it
exists on any machine. The local index is built once in the cache
(:mod:`es_rerank.index_cache`), keyed by the passages: another corpus (i.e. another Python
version) gets its own.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from es_rerank.backends.local import LocalIndex
from es_rerank.documents import AddResult
from es_rerank.evaluation.first_stages import first_stage_query, semantic_query
from es_rerank.factories import require_models
from es_rerank.index_cache import cached_index
from es_rerank.rerank_window import model_reranker, rerank_window
from es_rerank.results import SearchHit
from es_rerank.snippets import snippet

__all__ = [
    "DEMO_QUERIES",
    "build_demo_index",
    "hybrid_retriever",
    "pydoc_passages",
    "run_demo",
]

DEMO_QUERIES = (
    "how do I catch an exception and raise a different one",
    "loop over a sequence and stop early",
    "what happens when a with statement exits",
    "compare two objects for equality in my own class",
)

_WORDS_PER_PASSAGE = 120
_SNIPPET_WIDTH = 94  # with its 6-column indent, a 100-column line


def pydoc_passages(words_per_passage: int = _WORDS_PER_PASSAGE) -> Iterator[dict[str, Any]]:
    """Passages of about ``words_per_passage`` words, paragraph-aligned, from each topic.

    >>> p = next(pydoc_passages())
    >>> sorted(p)
    ['_id', 'length', 'source', 'tags', 'text', 'title']
    >>> p["source"]
    'pydoc_data.topics'
    """
    from pydoc_data.topics import topics

    for key in sorted(topics):
        lines = topics[key].strip().splitlines()
        title = lines[0].strip() if lines else key
        body = "\n".join(lines[2:] if len(lines) > 1 and set(lines[1]) <= {"*", "="} else lines)
        paragraphs = [p.strip() for p in body.split("\n\n") if p.strip()]
        chunk: list[str] = []
        n = 0
        part = 0
        for para in paragraphs:
            chunk.append(para)
            n += len(para.split())
            if n >= words_per_passage:
                yield _passage(key, title, part, chunk)
                part, chunk, n = part + 1, [], 0
        if chunk:
            yield _passage(key, title, part, chunk)


def _passage(key: str, title: str, part: int, chunk: list[str]) -> dict[str, Any]:
    text = " ".join(" ".join(chunk).split())
    return {
        "_id": f"{key}#{part}",
        "title": title,
        "text": text,
        "tags": [key],
        "source": "pydoc_data.topics",
        "length": len(text.split()),
    }


def build_demo_index(
    cache: Path | None = None, *, progress: bool = True, semantic: bool = False
) -> LocalIndex:
    """The demo index, from the cache (``indexes/`` in ``cache``, default the package's
    cache directory), built there on first use and for every other corpus. With
    ``semantic``, the ``passages-semantic`` mapping: ``text`` is also embedded (by the
    packaged all-MiniLM-L6-v2) into the semantic_text field ``text_semantic``."""
    passages = list(pydoc_passages())
    digest = hashlib.sha256(json.dumps(passages, sort_keys=True).encode()).hexdigest()

    def fill(index: LocalIndex) -> AddResult:
        result = index.add(passages, progress=progress)
        if result.rejected:  # the corpus is ours: a reject is a bug, not bad input
            raise RuntimeError(f"demo corpus rejected: {result.rejected[:3]}")
        return result

    return cached_index(
        "demo-semantic" if semantic else "demo",
        identity={"corpus": "pydoc_data.topics", "sha256": digest},
        fill=fill,
        mapping="passages-semantic" if semantic else "passages",
        cache=None if cache is None else cache / "indexes",
    )


def hybrid_retriever(text: str, window: int) -> dict[str, Any]:
    """The tree the demo runs: BM25 and the embeddings fused by RRF, then the cross-encoder.

    >>> tree = hybrid_retriever("loop", 30)["text_similarity_reranker"]
    >>> [next(iter(r["standard"]["query"])) for r in tree["retriever"]["rrf"]["retrievers"]]
    ['multi_match', 'semantic']
    """
    return {
        "text_similarity_reranker": {
            "retriever": {
                "rrf": {
                    "retrievers": [
                        {"standard": {"query": first_stage_query(text)}},
                        {"standard": {"query": semantic_query(text)}},
                    ],
                    "rank_window_size": window,
                }
            },
            "field": "text",
            "inference_text": text,
            "rank_window_size": window,
        }
    }


def run_demo(
    *,
    model: str | None = None,
    queries: Sequence[str] = DEMO_QUERIES,
    window: int = 30,
    show: int = 5,
    cache: Path | None = None,
    out: TextIO = sys.stdout,
    first_stage: str = "hybrid",
    **runtime: Any,
) -> int:
    """Print the first stage and reranked results side by side; ``first_stage`` is
    ``hybrid`` (BM25 and kNN over embeddings fused by RRF, each hit showing its rank in
    each) or ``bm25``; ``runtime`` holds :class:`CrossEncoderReranker` keywords
    (``runtime``, ``dtype``, ``max_batch_tokens``, ``instruction``)."""
    if first_stage not in ("hybrid", "bm25"):
        raise ValueError(f"first_stage must be 'hybrid' or 'bm25', got {first_stage!r}")
    require_models("the demo")
    started = time.perf_counter()
    # The model first: a missing one is reported before the index is built.
    loaded, reranker = model_reranker(model, notice=out, **runtime)
    info = reranker.info
    hybrid = first_stage == "hybrid"
    index = build_demo_index(cache, semantic=hybrid)
    stage = "RRF(BM25, kNN over all-MiniLM-L6-v2 embeddings)" if hybrid else "BM25"
    print(
        f"local index: {index.path} ({index.count()} passages from pydoc_data.topics)\n"
        f"model: {loaded.path} ({loaded.kind}, runtime {info['runtime']} {info['dtype']}); "
        f"reranking the top {window} {stage} hits",
        file=out,
    )
    if hybrid:
        for q in queries:
            _hybrid_query(index, reranker, q, window, show, out)
        print(f"\ndone in {time.perf_counter() - started:.1f}s", file=out)
        return 0
    for q in queries:
        hits = index.search_query(first_stage_query(q), size=window)
        ranked = rerank_window(
            reranker, q, backend=index, first_stage=first_stage_query(q), window=window
        )
        print(f"\nquery: {q}", file=out)
        _print_side_by_side(hits[:show], ranked[:show], q, out)
    print(f"\ndone in {time.perf_counter() - started:.1f}s", file=out)
    return 0


def _hybrid_query(
    index: LocalIndex, reranker: Any, q: str, window: int, show: int, out: TextIO
) -> None:
    """One hybrid search, each reranked hit with its rank in BM25, in kNN and after RRF."""
    from es_rerank.search import search

    bm25 = {h.id: i for i, h in enumerate(index.search_query(first_stage_query(q), size=window), 1)}
    knn = {h.id: i for i, h in enumerate(index.search_query(semantic_query(q), size=window), 1)}
    result = search(
        hybrid_retriever(q, window), backend=index, reranker=reranker, size=show, mode="external"
    )
    print(f"\nquery: {q}", file=out)
    print(f"  {'#':>2}  {'score':>7}  {'passage':<30} {'bm25':>5} {'knn':>5} {'rrf':>5}", file=out)
    for i, hit in enumerate(result.hits, 1):
        ranks = [bm25.get(hit.id), knn.get(hit.id), hit.first_stage_rank]
        shown = " ".join(f"{'#' + str(r) if r else '-':>5}" for r in ranks)
        print(f"  {i:>2}  {hit.score:7.3f}  {hit.id[:30]:<30} {shown}", file=out)
        text = str(hit.source.get("text", ""))
        print(f"      {snippet(text, q, _SNIPPET_WIDTH)}", file=out)
    only = [h.id for h in result.hits if h.id not in bm25]
    if only:
        print(f"  from kNN only (BM25 missed them): {', '.join(only)}", file=out)


def _print_side_by_side(
    first: Sequence[Any], ranked: Sequence[SearchHit], query: str, out: TextIO
) -> None:
    """BM25 and reranked order in two columns; under each reranked hit, a one-line snippet
    of its passage (the sentence closest to the query), so a person can judge the order."""
    w = 38
    print(f"  {'#':>2}  {'BM25 (first stage)':<{w}}  {'reranked':<{w}}", file=out)
    for i in range(max(len(first), len(ranked))):
        left = f"{first[i].score:7.3f}  {first[i].id}" if i < len(first) else ""
        right = ""
        if i < len(ranked):
            r = ranked[i]
            right = f"{r.score:7.3f}  {r.id}  (was #{r.first_stage_rank})"
        print(f"  {i + 1:>2}  {left[:w]:<{w}}  {right}", file=out)
        if i < len(ranked):
            text = str(ranked[i].source.get("text", ""))
            print(f"      {snippet(text, query, _SNIPPET_WIDTH)}", file=out)
