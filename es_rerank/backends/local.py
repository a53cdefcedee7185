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
from es_rerank.backends.local_knn import as_query, min_score, parse_knn
from es_rerank.backends.local_mapping import (
    _ANALYZERS,
    _FIELDS,
    _ID,
    LocalMapping,
    RejectedDocument,
    build_analyzer,
    stored_source,
    vector_field,
)
from es_rerank.backends.local_query import QueryTranslator
from es_rerank.backends.local_rank_feature import (
    RankFeatureFunction,
    feature_values,
    resolve_field,
    score_query,
    scored,
)
from es_rerank.backends.local_request import run_request
from es_rerank.backends.semantic_text import chunks_field
from es_rerank.backends.vectors import VectorField
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
        self._translator.register("knn", self._knn)
        self._translator.register("semantic", self._semantic)
        self._translator.register("rank_feature", self._rank_feature)
        self._features: dict[str, tuple[int, list[tuple[str, dict[str, int]]]]] = {}
        self._heap_size = heap_size
        self._vectors = {
            f.name: VectorField(f.vector, self.path / "vectors")
            for f in self.mapping.fields.values()
            if f.vector is not None
        }
        self._request_size = 10  # the size of the search being translated: knn's default k

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
        self._request_size = size
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

    # -- vectors ---------------------------------------------------------------------

    def _opstamp(self) -> int:
        """The commit the index is at (tantivy's ``meta.json`` is replaced atomically)."""
        try:
            return int(json.loads((self.path / "meta.json").read_text())["opstamp"])
        except (OSError, ValueError, KeyError):
            return 0

    def _vector_state(self, name: str) -> Any:
        field = self._vectors[name]
        dims = field.spec.dims

        def load() -> tuple[list[str], Any]:
            import numpy as np

            searcher = self._searcher()
            q = tantivy.Query.term_query(self._schema, _FIELDS, name)
            found = searcher.search(q, limit=max(int(searcher.num_docs), 1)).hits
            found.sort(key=lambda h: (h[1].segment_ord, h[1].doc))  # index order
            ids: list[str] = []
            blobs: list[bytes] = []
            for _, addr in found:
                doc = searcher.doc(addr)
                blob = bytes(doc.get_first(vector_field(name)) or b"")
                rows = len(blob) // (4 * dims)
                ids.extend([str(doc.get_first(_ID))] * rows)
                blobs.append(blob)
            vectors = np.frombuffer(b"".join(blobs), dtype=np.float32).reshape(-1, dims)
            return ids, vectors.copy()

        return field.refresh(self._opstamp(), load)

    def _vector_field(self, name: Any, construct: str) -> VectorField:
        if name not in self._vectors:
            spec = self.mapping.fields.get(str(name))
            raise ValueError(
                f"{construct}: field {name!r} is "
                + (
                    "not in the index mapping"
                    if spec is None
                    else f"of type {spec.es_type!r}, not dense_vector or semantic_text"
                )
            )
        return self._vectors[str(name)]

    def _ids_matching(self, filters: list[Any]) -> set[str] | None:
        if not filters:
            return None
        q = self._translator.matching({"bool": {"filter": filters}})
        searcher = self._searcher()
        hits = searcher.search(q, limit=max(int(searcher.num_docs), 1)).hits
        return {str(searcher.doc(addr).get_first(_ID)) for _, addr in hits}

    def _embed_query(self, builder: Any) -> list[float]:
        from es_rerank.embedding import embedder_for

        te = builder.get("text_embedding") if isinstance(builder, Mapping) else None
        if not isinstance(te, Mapping) or not isinstance(te.get("model_text"), str):
            raise ValueError(
                'knn: query_vector_builder must be {"text_embedding": {"model_id": ..., '
                '"model_text": "..."}}'
            )
        return [float(x) for x in embedder_for(te.get("model_id")).query(te["model_text"])]

    def knn_search(self, body: Mapping[str, Any], *, size: int = 10) -> list[tuple[str, float]]:
        """The ``(id, score)`` hits of a ``knn`` body, best first (see :meth:`search_query`
        for the same as a query)."""
        knn = parse_knn(body, size=size, embed=self._embed_query)
        field = self._vector_field(knn.field, "knn")
        state = self._vector_state(knn.field)
        return field.search(
            state,
            knn.vector,
            k=knn.k,
            num_candidates=knn.num_candidates,
            eligible=self._ids_matching(knn.filters),
            min_score=min_score(field, knn.similarity),
        )

    def _knn(self, body: Any) -> tantivy.Query:
        hits = self.knn_search(body, size=self._request_size)
        boost = float(body.get("boost", 1.0)) if isinstance(body, Mapping) else 1.0
        return as_query(self._schema, _ID, hits, boost)

    def _semantic(self, body: Any) -> tantivy.Query:
        """ES's ``semantic`` query on a dense ``semantic_text`` field: a knn over its chunks
        with ``k`` = the request size, each document scoring as its best chunk."""
        if not isinstance(body, Mapping) or not isinstance(body.get("query"), str):
            raise ValueError("semantic: needs a 'field' and a 'query' text")
        unknown = sorted(set(body) - {"field", "query", "boost", "_name"})
        if unknown:
            raise ValueError(f"semantic: parameter(s) {unknown} not supported")
        spec = self.mapping.fields.get(str(body.get("field")))
        if spec is None or spec.semantic is None:
            raise ValueError(f"semantic: field {body.get('field')!r} is not a semantic_text field")
        from es_rerank.embedding import embedder_for

        vector = embedder_for(spec.semantic.inference_id).query(body["query"])
        knn = {"field": spec.name, "query_vector": [float(x) for x in vector]}
        return self._knn({**knn, "boost": body.get("boost", 1.0)})

    def _rank_feature(self, body: Any) -> tantivy.Query:
        """ES's ``rank_feature`` query: every document with the feature, scored by the
        query's function of the value as stored (see local_rank_feature)."""
        query = RankFeatureFunction.parse(body)
        kinds = {n: (f.es_type, f.positive_impact) for n, f in self.mapping.fields.items()}
        target = resolve_field(query.field, kinds)
        if target is None:
            return tantivy.Query.empty_query()  # an unmapped field matches nothing in ES
        field, feature, positive = target
        freqs = [(i, feats[feature]) for i, feats in self._feature_table(field) if feature in feats]
        return score_query(self._schema, _ID, scored(query, positive, freqs))

    def _feature_table(self, field: str) -> list[tuple[str, dict[str, int]]]:
        """Each ``(id, {feature: stored frequency})`` of the documents with rank_feature(s)
        ``field``, in index order; read from ``_source`` once per commit."""
        opstamp = self._opstamp()
        cached = self._features.get(field)
        if cached is not None and cached[0] == opstamp:
            return cached[1]
        spec = self.mapping.fields[field]
        searcher = self._searcher()
        q = tantivy.Query.term_query(self._schema, _FIELDS, field)
        found = searcher.search(q, limit=max(int(searcher.num_docs), 1)).hits
        found.sort(key=lambda h: (h[1].segment_ord, h[1].doc))
        table = []
        for _, addr in found:
            doc = searcher.doc(addr)
            values = self.mapping.values(spec, stored_source(doc))
            feats = feature_values(spec.es_type, field, values, spec.positive_impact)
            table.append((str(doc.get_first(_ID)), feats))
        self._features[field] = (opstamp, table)
        return table

    def _semantic_blob(self, doc_id: str, field: str) -> dict[str, Any]:
        searcher = self._searcher()
        q = tantivy.Query.term_query(self._schema, _ID, str(doc_id))
        res = searcher.search(q, limit=1).hits
        if not res:
            return {}
        blob = searcher.doc(res[0][1]).get_first(chunks_field(field))
        data = json.loads(bytes(blob).decode()) if blob is not None else {}
        return data if isinstance(data, dict) else {}

    def chunks(self, doc_id: str, field: str) -> list[str]:
        """The chunks a ``semantic_text`` field of document ``doc_id`` was embedded in."""
        return list(self._semantic_blob(doc_id, field).get("chunks", []))

    def semantic_field(self, field: str) -> object | None:
        """The chunking settings of ``field`` when it is a semantic_text field, else None."""
        spec = self.mapping.fields.get(field)
        return spec.semantic.chunking if spec is not None and spec.semantic is not None else None

    def semantic_fields(self) -> list[str]:
        """The names of the index's ``semantic_text`` fields (the multi-field format of
        ``rrf``/``linear`` queries them semantically, as ES does)."""
        return [n for n, f in self.mapping.fields.items() if f.semantic is not None]

    def semantic_text(self, doc_id: str, field: str) -> list[str]:
        """The values a ``semantic_text`` field of ``doc_id`` holds (its own and those copied
        to it): what ES returns for the field, and what a reranker reads."""
        return [str(v) for v in self._semantic_blob(doc_id, field).get("texts", [])]

    def best_chunks(self, doc_id: str, field: str, text: str, size: int) -> list[str] | None:
        """The ``size`` chunks of semantic_text ``field`` closest to ``text`` by the field's
        own embeddings, best first (ES's ``SemanticChunkScorer``, used by ``chunk_rescorer``
        on a semantic_text field); None when ``field`` is not a semantic_text field."""
        spec = self.mapping.fields.get(field)
        if spec is None or spec.semantic is None or spec.vector is None:
            return None
        chunks = self.chunks(doc_id, field)
        if not chunks:
            return []
        from es_rerank.embedding import embedder_for

        state = self._vector_state(field)
        rows = [i for i, d in enumerate(state.ids) if d == str(doc_id)]
        query = embedder_for(spec.semantic.inference_id).query(text)
        scores = spec.vector.score(query, state.vectors[rows])
        order = sorted(range(len(rows)), key=lambda i: (-float(scores[i]), i))
        return [chunks[i] for i in order[:size]]

    def _embed_batch(self, docs: list[Any], cache: Any, bar: Any) -> list[dict[str, Any]]:
        """Each document's ``{field: (chunks, vectors)}`` for its semantic_text fields, the
        whole batch embedded at once (token-budget batches, cached by content)."""
        from es_rerank.embedding import embedder_for

        out: list[dict[str, Any]] = [{} for _ in docs]
        for spec in self.mapping.fields.values():
            if spec.semantic is None:
                continue
            owners: list[tuple[int, int]] = []
            texts: list[str] = []
            originals: dict[int, list[Any]] = {}
            for i, doc in enumerate(docs):
                values = (
                    self.mapping.semantic_inputs(doc, spec.name) if isinstance(doc, Mapping) else []
                )
                if not values:
                    continue
                try:
                    chunks = spec.semantic.texts(values)
                except ValueError as exc:
                    out[i][spec.name] = exc  # to_document rejects the document with it
                    continue
                originals[i] = values
                owners.append((i, len(chunks)))
                texts.extend(chunks)
            if not texts:
                continue
            if bar is not None:
                bar.total = (bar.total or 0) + len(texts)
                bar.refresh()
            vectors = embedder_for(spec.semantic.inference_id).embed(
                texts, cache=cache, progress=bar
            )
            start = 0
            for i, n in owners:
                chunks = texts[start : start + n]
                out[i][spec.name] = (originals[i], chunks, vectors[start : start + n])
                start += n
        return out

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
        self._request_size = size
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
        semantic = any(f.semantic is not None for f in self.mapping.fields.values())
        cache = None
        if semantic:
            from es_rerank.embedding import EmbeddingCache

            cache = EmbeddingCache(self.path / "vectors" / "embeddings.sqlite")
        writer = self._index.writer(heap_size=self._heap_size, num_threads=1)
        buffered: list[tuple[int, Any]] = []

        def flush(bar: Any, embed_bar: Any) -> None:
            """Embed, add and commit the buffered documents."""
            embedded = (
                self._embed_batch([d for _, d in buffered], cache, embed_bar)
                if semantic
                else [None] * len(buffered)
            )
            added = 0
            for (pos, doc), emb in zip(buffered, embedded, strict=True):
                try:
                    doc_id, tdoc = self.mapping.to_document(doc, id_field=id_field, embedded=emb)
                except (RejectedDocument, TypeError, ValueError) as exc:
                    # One document that does not fit never stops the others.
                    rid = doc.get(id_field) if isinstance(doc, Mapping) else None
                    result.rejected.append(
                        Rejected(pos, None if rid is None else str(rid), str(exc))
                    )
                    continue
                writer.delete_documents_by_term(_ID, doc_id)
                writer.add_document(tdoc)
                added += 1
            buffered.clear()
            if added:
                writer.commit()
                result.indexed += added

        try:
            bar = tqdm(total=total, unit="doc", desc="indexing", disable=None if progress else True)
            embed_bar = (
                tqdm(total=0, unit="chunk", desc="embedding", disable=None if progress else True)
                if semantic
                else None
            )
            with bar:
                for pos, doc, parse_error in items:
                    bar.update(1)
                    if parse_error is not None:
                        result.rejected.append(Rejected(pos, None, parse_error))
                        continue
                    buffered.append((pos, doc))
                    if len(buffered) >= batch_size:
                        flush(bar, embed_bar)
                if buffered:
                    flush(bar, embed_bar)
            if embed_bar is not None:
                embed_bar.close()
            writer.wait_merging_threads()
        except BaseException:
            writer.rollback()
            raise
        finally:
            if cache is not None:
                cache.close()
        for name in self._vectors:
            self._vector_state(name)  # the graph of what was committed, saved beside it
        return result

    def add_jsonl(self, path: str | Path, **kwargs: Any) -> AddResult:
        """Same as :meth:`add` with a JSONL path."""
        return self.add(Path(path), **kwargs)
