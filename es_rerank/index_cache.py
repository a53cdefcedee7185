"""Local indexes kept in the cache (``indexes/`` of :func:`es_rerank.cache.cache_home`), one
per corpus and mapping: ``es-rerank eval`` and ``calibrate`` index a collection once, the demo
indexes Python's documentation once.

An entry's key is a hash of what identifies the corpus (a file's resolved path, size and
modification time; the demo's passages themselves), the mapping and the entry format, so a
changed corpus gets a new entry and never a stale one. Entries are built with
:func:`es_rerank.cache.cached_build`: in a temporary directory renamed into place.

>>> import tempfile
>>> from pathlib import Path
>>> corpus = Path(tempfile.mkdtemp()) / "corpus.jsonl"
>>> _ = corpus.write_text('{"_id": "d1", "title": "wings", "text": "lift of a swept wing"}\\n')
>>> index = cached_corpus_index(corpus, name="tiny", cache=corpus.parent / "indexes")
>>> index.count(), index.path.parent.name, index.path.name.startswith("tiny-")
(1, 'indexes', True)
>>> cached_corpus_index(corpus, name="tiny", cache=corpus.parent / "indexes").path == index.path
True
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from es_rerank.backends.local import LocalIndex
from es_rerank.cache import cache_dir, cached_build
from es_rerank.documents import AddResult, print_rejected, resolve_mapping

__all__ = ["cached_corpus_index", "cached_index"]

# Bumped when what an entry holds changes.
_FORMAT = 1


def cached_index(
    name: str,
    *,
    identity: Mapping[str, Any],
    fill: Callable[[LocalIndex], AddResult],
    mapping: str = "passages",
    cache: Path | None = None,
) -> LocalIndex:
    """The cached local index ``name`` of the corpus ``identity`` describes (JSON values),
    with ``mapping``; built on first use by ``fill(new_index)``, whose rejected documents
    are printed on stderr. ``cache`` is the folder of entries (default ``indexes/`` in the
    cache)."""
    blob = json.dumps(
        {**identity, "mapping": resolve_mapping(mapping), "format": _FORMAT}, sort_keys=True
    )
    key = f"{name}-{hashlib.sha256(blob.encode()).hexdigest()[:16]}"

    def build(tmp: Path) -> None:
        print_rejected(fill(LocalIndex(tmp, mapping=mapping)))

    root = cache or cache_dir("indexes")
    entry, _ = cached_build(
        root, key, build, describe={"name": name, "mapping": mapping, **identity}
    )
    return LocalIndex.open(entry)


def cached_corpus_index(
    corpus: Path, *, name: str, cache: Path | None = None, mapping: str = "passages"
) -> LocalIndex:
    """The local index of the JSONL file ``corpus`` (``mapping``, default ``passages``),
    keyed by the file (resolved path, size, modification time), so every evaluation of one
    collection shares it whatever its ``--out``."""
    stat = corpus.stat()
    identity = {
        "corpus": str(corpus.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
    }
    return cached_index(
        name, identity=identity, fill=lambda index: index.add(corpus), mapping=mapping, cache=cache
    )
