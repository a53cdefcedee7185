"""An embedded, on-disk full-text index on tantivy: no server, same mapping files as ES.

Scores are Lucene's BM25 (k1=1.2, b=0.75): tantivy's are rescaled per term to Lucene's idf
(over the documents that have the field) and without tantivy's ``(k1 + 1)`` numerator, so
first-stage scores match what Elasticsearch gives for the same analysed text wherever every
document has the field (otherwise tantivy's average length counts every document). Its
commits are atomic (a new ``meta.json`` is swapped in only once every segment file is
written), so a process killed mid-indexing leaves the index as of its last commit;
re-adding is idempotent by id.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sized
from pathlib import Path
from typing import Any

import tantivy

from es_rerank.backends.base import Hit, Hits
from es_rerank.backends.local_mapping import (
    _ANALYZERS,
    _ID,
    LocalMapping,
    RejectedDocument,
    build_analyzer,
    stored_source,
)
from es_rerank.backends.local_query import QueryTranslator
from es_rerank.backends.local_request import run_request
from es_rerank.documents import AddResult, Rejected, count_lines, read_jsonl, resolve_mapping
from es_rerank.errors import ConfigurationError, LocalIndexError

__all__ = ["MAPPING_FILE", "AddResult", "LocalIndex", "Rejected", "check_index_path"]

#: The file that marks a directory as an es-rerank local index (its mapping).
MAPPING_FILE = "es_rerank_mapping.json"


def check_index_path(path: str | Path, *, create: bool) -> Path:
    """``path`` if it holds a local index, or (with ``create``) may become one: absent or
    an empty directory. A file, or a directory with other content, is refused, so that
    nothing is ever written into a folder that is not an index.

    >>> import tempfile
    >>> check_index_path(tempfile.mkdtemp(), create=False)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    es_rerank.errors.LocalIndexError: ... is empty, not an es-rerank index; build one with ...
    """
    p = Path(path)
    build = f"build one with `es-rerank index FILE.jsonl --local {p}`"
    if p.is_dir():
        if (p / MAPPING_FILE).is_file():
            return p
        if any(p.iterdir()):
            raise LocalIndexError(
                f"{p} is not an es-rerank index (no {MAPPING_FILE}) and not empty; refusing to "
                "use it: give the directory of an index, or a new or empty one to create"
            )
        if not create:
            raise LocalIndexError(f"{p} is empty, not an es-rerank index; {build}")
        return p
    if p.exists():
        raise LocalIndexError(f"{p} is a file, not an es-rerank index directory")
    if not create:
        raise LocalIndexError(f"no es-rerank index at {p}; {build}")
    return p


class LocalIndex:
    """A local index at ``path``: reopened when it is one; with ``create`` (the default),
    created from ``mapping`` when ``path`` is absent or an empty directory. Anything else
    (a file, a folder with other content) raises :class:`~es_rerank.errors.LocalIndexError`
    before anything is written.

    >>> import tempfile
    >>> from es_rerank import LocalIndex
    >>> idx = LocalIndex(tempfile.mkdtemp(), mapping="passages")
    >>> idx.add([{"_id": "a", "title": "Cats", "text": "cats purr", "year": 2020},
    ...          {"_id": "b", "title": "Dogs", "text": "dogs bark", "year": 2021}],
    ...         progress=False).indexed
    2
    >>> [h.id for h in idx.search_query({"match": {"text": "purr"}}, size=10)]
    ['a']
    >>> [h.id for h in idx.search_query({"range": {"year": {"gte": 2021}}}, size=10)]
    ['b']
    """

    def __init__(
        self,
        path: str | Path,
        *,
        mapping: Mapping[str, Any] | str | Path | None = None,
        heap_size: int = 50_000_000,
        create: bool = True,
    ) -> None:
        self.path = check_index_path(path, create=create)
        stored = self.path / MAPPING_FILE
        if stored.is_file():
            raw = json.loads(stored.read_text())
            if mapping is not None and resolve_mapping(mapping) != raw:
                raise LocalIndexError(
                    f"mapping: the index at {self.path} was created with a different mapping "
                    f"({stored}); use a new path or the same mapping"
                )
        else:
            raw = resolve_mapping(mapping if mapping is not None else "passages")
        self.mapping = LocalMapping(raw)
        self._schema = self.mapping.schema()
        if not stored.is_file():
            # The mapping file first: it is what marks the directory as an index.
            self.path.mkdir(parents=True, exist_ok=True)
            tmp = stored.with_suffix(".tmp")
            tmp.write_text(json.dumps(raw, indent=2))
            tmp.replace(stored)
        try:
            self._index = tantivy.Index(self._schema, path=str(self.path), reuse=True)
        except ValueError as exc:
            if "schema does not match" not in str(exc):
                raise
            # e.g. built before this version indexed multi-fields: its fields differ
            raise LocalIndexError(
                f"the index at {self.path} was built with other index fields than its mapping "
                f"now gives (an older es-rerank); rebuild it into a new directory"
            ) from None
        self._analyzers = {name: build_analyzer(name) for name in _ANALYZERS.values()}
        for name, analyzer in self._analyzers.items():
            self._index.register_tokenizer(name, analyzer)
        self._translator = QueryTranslator(
            self.mapping, self._schema, self._analyzers, self._searcher
        )
        self._heap_size = heap_size

    @classmethod
    def open(cls, path: str | Path) -> LocalIndex:
        """An existing index (never creates one): :class:`~es_rerank.errors.LocalIndexError`
        when ``path`` is not an es-rerank index."""
        return cls(path, create=False)

    # -- reading ---------------------------------------------------------------------

    def _searcher(self) -> tantivy.Searcher:
        self._index.reload()  # see commits made by other writers/processes
        return self._index.searcher()

    def count(self) -> int:
        """Number of live documents as of the last commit."""
        return int(self._searcher().num_docs)

    def get(self, doc_id: str) -> dict[str, Any] | None:
        """The ``_source`` of document ``doc_id``, or None."""
        searcher = self._searcher()
        q = tantivy.Query.term_query(self._schema, _ID, str(doc_id))
        res = searcher.search(q, limit=1).hits
        if not res:
            return None
        return stored_source(searcher.doc(res[0][1]))

    def search_query(self, query: Mapping[str, Any] | None, *, size: int) -> Hits:
        """Run an ES query DSL object; best first, equal scores in index order, with the
        exact number of matching documents as ``total``."""
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative integer, got {size!r}")
        q = self._translator.translate(query)
        searcher = self._searcher()
        found = searcher.search(q, limit=max(size, 1), count=True)
        ordered = sorted(found.hits, key=lambda h: (-h[0], h[1].segment_ord, h[1].doc))
        out = []
        for score, addr in ordered[:size]:
            doc = searcher.doc(addr)
            out.append(
                Hit(id=str(doc.get_first(_ID)), score=float(score), source=stored_source(doc))
            )
        return Hits(out, total=int(found.count or 0))  # type: ignore[attr-defined]

    def search_request(
        self, query: Mapping[str, Any] | None, *, size: int, options: Mapping[str, Any]
    ) -> Hits:
        """Run an ES query with the standard retriever's own options (``sort``,
        ``search_after``, ``terminate_after``, ``min_score``, ``collapse``,
        ``track_scores``, ``track_total_hits``) as ES applies them; each hit's ``sort``
        holds ES's sort values. An option it cannot apply raises ``ValueError`` naming it.

        >>> import tempfile
        >>> mapping = {"mappings": {"properties": {"day": {"type": "date"}}}}
        >>> idx = LocalIndex(tempfile.mkdtemp(), mapping=mapping)
        >>> idx.add([{"_id": "a", "day": "2020-01-02"}, {"_id": "b", "day": 1556704800000}],
        ...         progress=False).indexed
        2
        >>> hits = idx.search_request(None, size=10, options={"sort": [{"day": "asc"}]})
        >>> [(h.id, h.sort) for h in hits]
        [('b', (1556704800000,)), ('a', (1577923200000,))]
        """
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise ValueError(f"size must be a non-negative integer, got {size!r}")
        if not isinstance(options, Mapping):
            raise ValueError(f"options must be an object of search options, got {options!r}")
        q = self._translator.translate(query)
        return run_request(self._searcher(), q, self.mapping, size=size, options=options)

    # -- writing ---------------------------------------------------------------------

    def add(
        self,
        docs: Iterable[Any] | str | Path,
        *,
        id_field: str = "_id",
        batch_size: int = 1000,
        progress: bool = True,
        total: int | None = None,
    ) -> AddResult:
        """Add or replace documents (by ``id_field``), committing every ``batch_size``.

        ``docs`` is an iterable of dicts or the path of a JSONL file. A line that is not
        UTF-8 or not JSON, and a document that does not fit the mapping, is skipped and
        listed in the result with its line (or position) and reason; the rest is indexed.
        Numbers are coerced as ES coerces them (``"1999"`` and ``1999.0`` into an integer
        field; ``1.5`` is truncated to 1), unless the mapping sets ``"coerce": false``.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        if isinstance(docs, (str, Path)):
            path = Path(docs)
            if not path.is_file():
                raise ConfigurationError(f"no such JSONL file: {path}")
            if total is None:
                total = count_lines(path)
            items: Iterable[tuple[int, Any, str | None]] = read_jsonl(path)
        else:
            if total is None and isinstance(docs, Sized):
                total = len(docs)
            items = ((i, d, None) for i, d in enumerate(docs))
        from tqdm.auto import tqdm  # type: ignore[import-untyped]

        result = AddResult()
        writer = self._index.writer(heap_size=self._heap_size, num_threads=1)
        pending = 0
        try:
            bar = tqdm(total=total, unit="doc", desc="indexing", disable=None if progress else True)
            with bar:
                for pos, doc, parse_error in items:
                    bar.update(1)
                    if parse_error is not None:
                        result.rejected.append(Rejected(pos, None, parse_error))
                        continue
                    try:
                        doc_id, tdoc = self.mapping.to_document(doc, id_field=id_field)
                    except (RejectedDocument, TypeError, ValueError) as exc:
                        # One document that does not fit never stops the others.
                        rid = doc.get(id_field) if isinstance(doc, Mapping) else None
                        result.rejected.append(
                            Rejected(pos, None if rid is None else str(rid), str(exc))
                        )
                        continue
                    writer.delete_documents_by_term(_ID, doc_id)
                    writer.add_document(tdoc)
                    pending += 1
                    if pending >= batch_size:
                        writer.commit()
                        result.indexed += pending
                        pending = 0
                if pending:
                    writer.commit()
                    result.indexed += pending
                    pending = 0
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        return result

    def add_jsonl(self, path: str | Path, **kwargs: Any) -> AddResult:
        """Same as :meth:`add` with a JSONL path."""
        return self.add(Path(path), **kwargs)
