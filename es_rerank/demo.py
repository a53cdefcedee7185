"""The demo: rerank searches over Python's own documentation, offline, with no server.

The corpus is cut from ``pydoc_data.topics`` (the help texts every CPython ships), so it
exists on any machine. The local index is built once under the cache directory and
rebuilt when the corpus (i.e. the Python version) changes.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TextIO

from es_rerank.backends.local import LocalIndex
from es_rerank.factories import cross_encoder_reranker, require_models
from es_rerank.rerank_window import rerank_window, resolve_model
from es_rerank.results import SearchHit
from es_rerank.runtime.cache import writable_cache_dir
from es_rerank.snippets import snippet

__all__ = ["DEMO_QUERIES", "build_demo_index", "demo_cache_dir", "pydoc_passages", "run_demo"]

DEMO_QUERIES = (
    "how do I catch an exception and raise a different one",
    "loop over a sequence and stop early",
    "what happens when a with statement exits",
    "compare two objects for equality in my own class",
)

_WORDS_PER_PASSAGE = 120
_SNIPPET_WIDTH = 94  # with its 6-column indent, a 100-column line


def demo_cache_dir() -> Path:
    """``$ES_RERANK_CACHE`` or ``$XDG_CACHE_HOME/es-rerank`` (default ``~/.cache/es-rerank``)."""
    base = os.environ.get("ES_RERANK_CACHE")
    if base:
        return Path(base)
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "es-rerank"


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


def build_demo_index(cache: Path | None = None, *, progress: bool = True) -> LocalIndex:
    """The demo index, built once; rebuilt if missing, incomplete or from another corpus."""
    passages = list(pydoc_passages())
    digest = hashlib.sha256(json.dumps(passages, sort_keys=True).encode()).hexdigest()[:16]
    path = writable_cache_dir(cache or demo_cache_dir()) / "demo-index"
    stamp = path / "corpus.sha256"
    if path.is_dir():
        try:
            if stamp.read_text() == digest and LocalIndex(path).count() == len(passages):
                return LocalIndex(path)
        except (OSError, ValueError):
            pass  # unreadable or stale: rebuild below
        shutil.rmtree(path)
    index = LocalIndex(path, mapping="passages")
    result = index.add(passages, progress=progress)
    if result.rejected:  # the corpus is ours: a reject is a bug, not bad input
        raise RuntimeError(f"demo corpus rejected: {result.rejected[:3]}")
    stamp.write_text(digest)
    return index


def first_stage_query(text: str) -> dict[str, Any]:
    return {"multi_match": {"query": text, "fields": ["title", "text"]}}


def run_demo(
    *,
    model: str | None = None,
    queries: Sequence[str] = DEMO_QUERIES,
    window: int = 30,
    show: int = 5,
    cache: Path | None = None,
    out: TextIO = sys.stdout,
    **runtime: Any,
) -> int:
    """Print BM25 and reranked results side by side; ``runtime`` holds
    :class:`CrossEncoderReranker` keywords (``runtime``, ``dtype``, ``max_batch_tokens``,
    ``instruction``)."""
    require_models("the demo")
    started = time.perf_counter()
    # The model first: a missing one is reported before the index is built.
    loaded = resolve_model(model, notice=out)
    reranker = cross_encoder_reranker(loaded, **runtime)
    info = reranker.info
    index = build_demo_index(cache)
    print(
        f"local index: {index.path} ({index.count()} passages from pydoc_data.topics)\n"
        f"model: {loaded.path} ({loaded.kind}, runtime {info['runtime']} {info['dtype']}); "
        f"reranking the top {window} BM25 hits",
        file=out,
    )
    for q in queries:
        hits = index.search_query(first_stage_query(q), size=window)
        ranked = rerank_window(
            reranker, q, backend=index, first_stage=first_stage_query(q), window=window
        )
        print(f"\nquery: {q}", file=out)
        _print_side_by_side(hits[:show], ranked[:show], q, out)
    print(f"\ndone in {time.perf_counter() - started:.1f}s", file=out)
    return 0


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
