"""``dense_vector`` fields of the local index: ES's mapping parameters and score transforms,
and kNN search, approximate (an HNSW graph from usearch) or exact.

Crash safety: a document's vector is stored in its tantivy document (a stored bytes field), so
it is committed, or lost, with the document. The HNSW graph is only a cache of committed
vectors, saved under ``<index>/vectors/`` and tagged with the tantivy commit (``opstamp``) it
was built from; a graph whose tag is not the current commit is never used, it is brought up to
date from the stored vectors first. A kill -9 at any point therefore loses nothing committed.

Defaults, ES's where ES has one: ``index_options`` ``int8_hnsw`` with m 16, ef_construction
100 (Lucene's); ``num_candidates`` ``min(1.5 * k, 10000)`` (``local_knn``). The graph is
searched with a beam of at least 400 (``num_candidates`` when larger) and every vector the
beam finds is rescored in float32; fewer than 500 eligible vectors are searched exactly.

Scores are ES's (``DenseVectorFieldMapper.VectorSimilarity.score`` for float vectors), always
computed exactly in float32 on the graph's candidates, also for ``int8_hnsw`` whose graph holds
8-bit vectors (ES scores such fields on its quantized vectors: its scores differ by ~1e-3).

>>> spec = DenseVectorSpec.from_mapping("v", {"type": "dense_vector", "dims": 2,
...                                            "similarity": "l2_norm"})
>>> spec.score(np.array([3.0, 4.0], dtype=np.float32), np.zeros((1, 2), dtype=np.float32))
array([0.03846154], dtype=float32)
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

__all__ = [
    "EXACT_BELOW",
    "MIN_EF_SEARCH",
    "DenseVectorSpec",
    "VectorField",
    "es_score",
    "new_graph",
]

Similarity = Literal["cosine", "dot_product", "l2_norm", "max_inner_product"]
IndexType = Literal["hnsw", "int8_hnsw", "flat", "int8_flat"]
Vectors = npt.NDArray[np.float32]

_SIMILARITIES: tuple[Similarity, ...] = ("cosine", "dot_product", "l2_norm", "max_inner_product")
_INDEX_TYPES: tuple[IndexType, ...] = ("hnsw", "int8_hnsw", "flat", "int8_flat")
#: Lucene99HnswVectorsFormat's DEFAULT_MAX_CONN and DEFAULT_BEAM_WIDTH (ES's defaults).
DEFAULT_M, DEFAULT_EF_CONSTRUCTION = 16, 100
#: Fewer eligible vectors than this are searched exactly. With the beam of 400 the graph is
#: no faster than numpy up to a few thousand vectors (load ~17 on 2 cores, p50: cranfield's
#: 1,616 x 384 exact 0.19 ms, graph 0.64 ms; msmarco's 5,000 exact 0.64 ms, graph 0.78 ms),
#: both well under a millisecond; the cut-off stays small until measured where it matters.
EXACT_BELOW = 500
#: The graph is searched with at least this beam (``num_candidates`` when larger): ES's
#: ``num_candidates`` default (1.5 x k) alone gives recall@10 ~0.9 on 384-d embeddings. On a
#: synthetic 1M x 384 int8 graph (m 16, ef_construction 100) the beam's recall@10 was 0.970
#: at 100, 0.987 at 200, 0.993 at 400 (bench/vector_search.py --parts sweep).
MIN_EF_SEARCH = 400


def es_score(similarity: Similarity, raw: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """ES's score of a raw similarity (the distance for ``l2_norm``), float vectors.

    >>> es_score("max_inner_product", np.array([-1.0, 2.0], dtype=np.float32)).tolist()
    [0.5, 3.0]
    """
    raw = raw.astype(np.float32, copy=False)
    if similarity == "l2_norm":
        return np.float32(1) / (np.float32(1) + raw * raw)
    if similarity == "max_inner_product":
        return np.where(raw < 0, np.float32(1) / (np.float32(1) - raw), raw + np.float32(1))
    return (np.float32(1) + raw) / np.float32(2)


@dataclass(frozen=True)
class DenseVectorSpec:
    """One ``dense_vector`` field: ``dims``, ``similarity`` and ``index_options``."""

    name: str
    dims: int
    similarity: Similarity = "cosine"
    index_type: IndexType = "int8_hnsw"
    m: int = DEFAULT_M
    ef_construction: int = DEFAULT_EF_CONSTRUCTION

    @classmethod
    def from_mapping(cls, name: str, spec: Mapping[str, Any]) -> DenseVectorSpec:
        """Parse a field's mapping; a parameter the local index cannot honour is an error."""
        where = f"mapping field {name!r} (dense_vector)"
        unknown = sorted(
            set(spec) - {"type", "dims", "similarity", "index", "index_options", "element_type"}
        )
        if unknown:
            raise ValueError(f"{where}: parameter(s) {unknown} not supported by the local index")
        if spec.get("element_type", "float") != "float":
            raise ValueError(f"{where}: only element_type 'float' is supported locally")
        if spec.get("index", True) not in (True, "true"):
            raise ValueError(f"{where}: index: false is not supported (nothing to search)")
        dims = spec.get("dims")
        if isinstance(dims, bool) or not isinstance(dims, int) or not 1 <= dims <= 4096:
            raise ValueError(f"{where}: 'dims' must be an integer from 1 to 4096, got {dims!r}")
        similarity = spec.get("similarity", "cosine")
        if similarity not in _SIMILARITIES:
            raise ValueError(
                f"{where}: similarity {similarity!r} is not one of {list(_SIMILARITIES)}"
            )
        options = spec.get("index_options", {"type": "int8_hnsw"})
        if not isinstance(options, Mapping) or options.get("type") not in _INDEX_TYPES:
            raise ValueError(
                f"{where}: index_options.type must be one of {list(_INDEX_TYPES)}, got {options!r}"
            )
        extra = sorted(set(options) - {"type", "m", "ef_construction", "confidence_interval"})
        if extra:
            raise ValueError(f"{where}: index_options {extra} not supported by the local index")
        m = options.get("m", DEFAULT_M)
        ef = options.get("ef_construction", DEFAULT_EF_CONSTRUCTION)
        for key, value in (("m", m), ("ef_construction", ef)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 2:
                raise ValueError(f"{where}: index_options.{key} must be an integer >= 2")
        return cls(name, dims, similarity, options["type"], m, ef)

    @property
    def uses_graph(self) -> bool:
        return self.index_type in ("hnsw", "int8_hnsw")

    def check(self, value: Any, *, what: str = "vector") -> npt.NDArray[np.float32]:
        """``value`` as the float32 vector ES would index (unit length for ``cosine``), or
        ``ValueError`` with ES's reason."""
        if not isinstance(value, list) or any(
            isinstance(x, bool) or not isinstance(x, (int, float)) for x in value
        ):
            raise ValueError(f"the {what} of [{self.name}] must be an array of numbers")
        if len(value) != self.dims:
            raise ValueError(
                f"The [dense_vector] field [{self.name}] has a different number of dimensions "
                f"[{len(value)}] than defined in the mapping [{self.dims}]"
            )
        arr = np.asarray(value, dtype=np.float32)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"the {what} of [{self.name}] has a non-finite value")
        norm2 = float(np.dot(arr.astype(np.float64), arr.astype(np.float64)))
        if self.similarity == "cosine":
            if norm2 == 0.0:
                raise ValueError(
                    f"The [cosine] similarity does not support vectors with zero magnitude. "
                    f"Preview of invalid vector: {value[:5]}"
                )
            arr = arr / np.float32(math.sqrt(norm2))
        elif self.similarity == "dot_product" and abs(norm2 - 1.0) > 1e-4:
            raise ValueError(
                "The [dot_product] similarity can only be used with unit-length vectors. "
                f"Preview of invalid vector: {value[:5]}"
            )
        return arr

    def raw(self, query: Vectors, vectors: Vectors) -> Vectors:
        """The raw similarity of ``query`` to each row (the distance for ``l2_norm``)."""
        if self.similarity == "l2_norm":
            diff = vectors - query
            dist: Vectors = np.sqrt(np.einsum("ij,ij->i", diff, diff)).astype(np.float32)
            return dist
        dots: Vectors = (vectors @ query).astype(np.float32)
        return dots

    def score(self, query: Vectors, vectors: Vectors) -> Vectors:
        """ES's scores of each row of ``vectors`` against ``query``."""
        return es_score(self.similarity, self.raw(query, vectors))


def new_graph(spec: DenseVectorSpec) -> Any:
    """An empty usearch HNSW graph for ``spec`` (8-bit for ``int8_hnsw`` over unit vectors,
    16-bit float for ``int8_hnsw`` over others, whose range int8 would clip)."""
    from usearch.index import Index

    metric = "l2sq" if spec.similarity == "l2_norm" else "ip"
    unit = spec.similarity in ("cosine", "dot_product")
    dtype = "f32" if spec.index_type == "hnsw" else ("i8" if unit else "f16")
    return Index(
        ndim=spec.dims,
        metric=metric,
        dtype=dtype,
        connectivity=spec.m,
        expansion_add=spec.ef_construction,
        expansion_search=MIN_EF_SEARCH,
    )


def _occurrences(ids: list[str]) -> list[tuple[str, int]]:
    """Each row as (document id, how many rows of that document came before it)."""
    seen: dict[str, int] = {}
    out = []
    for doc_id in ids:
        n = seen.get(doc_id, 0)
        seen[doc_id] = n + 1
        out.append((doc_id, n))
    return out


@dataclass
class _Cache:
    opstamp: int
    ids: list[str]
    vectors: Vectors
    #: each row's key in the graph, ascending (so a key's row is found by bisection)
    keys: npt.NDArray[np.int64]
    graph: Any  # usearch.index.Index or None


class VectorField:
    """The committed vectors of one field and their HNSW graph (built lazily, kept on disk
    beside the index, tagged with the commit it reflects)."""

    def __init__(self, spec: DenseVectorSpec, directory: Path) -> None:
        self.spec = spec
        self._dir = directory
        self._cache: _Cache | None = None

    # -- state -----------------------------------------------------------------------

    def _files(self, opstamp: int) -> tuple[Path, Path]:
        base = self._dir / self.spec.name
        return base.with_suffix(".json"), self._dir / f"{self.spec.name}.{opstamp}.usearch"

    def refresh(self, opstamp: int, load: Any) -> _Cache:
        """The state as of commit ``opstamp``; ``load()`` gives ``(ids, vectors)`` of every
        committed document having the field when the on-disk graph is not for that commit."""
        if self._cache is not None and self._cache.opstamp == opstamp:
            return self._cache
        cache = self._load_saved(opstamp)
        if cache is None:
            ids, vectors = load()
            previous = self._cache or self._load_saved(None)
            cache = self._build(opstamp, ids, vectors, previous)
            self._save(cache)
        self._cache = cache
        return cache

    def _load_saved(self, opstamp: int | None) -> _Cache | None:
        meta_path = self._files(0)[0]
        try:
            meta = json.loads(meta_path.read_text())
            if opstamp is not None and meta["opstamp"] != opstamp:
                return None
            graph_path = self._files(int(meta["opstamp"]))[1]
            vectors = np.load(self._dir / meta["vectors"], allow_pickle=False)
            graph = None
            if self.spec.uses_graph:
                from usearch.index import Index

                graph = Index.restore(str(graph_path))
                if graph is None or len(graph) != len(meta["ids"]):
                    return None
            keys = np.asarray(meta["keys"], dtype=np.int64)
            if len(keys) != len(meta["ids"]) or len(vectors) != len(keys):
                return None
            return _Cache(int(meta["opstamp"]), list(meta["ids"]), vectors, keys, graph)
        except (OSError, ValueError, KeyError, TypeError):
            return None  # absent, torn or foreign: rebuilt from the committed vectors

    def _save(self, cache: _Cache) -> None:
        """Graph and vectors first, the tag last (atomic rename): a crash in between leaves the
        previous tag, whose files are still there, or none."""
        self._dir.mkdir(parents=True, exist_ok=True)
        meta_path, graph_path = self._files(cache.opstamp)
        vec_name = f"{self.spec.name}.{cache.opstamp}.npy"
        with open(self._dir / (vec_name + ".tmp"), "wb") as fh:
            np.save(fh, cache.vectors, allow_pickle=False)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(self._dir / (vec_name + ".tmp"), self._dir / vec_name)
        if cache.graph is not None:
            tmp = graph_path.with_suffix(".tmp")
            cache.graph.save(str(tmp))
            os.replace(tmp, graph_path)
        tmp_meta = meta_path.with_suffix(".tmp")
        meta = {
            "opstamp": cache.opstamp,
            "ids": cache.ids,
            "keys": cache.keys.tolist(),
            "vectors": vec_name,
        }
        tmp_meta.write_text(json.dumps(meta))
        os.replace(tmp_meta, meta_path)
        for old in self._dir.glob(f"{self.spec.name}.*"):
            if old.suffix in (".usearch", ".npy") and old.name not in (graph_path.name, vec_name):
                old.unlink(missing_ok=True)

    def _build(
        self, opstamp: int, ids: list[str], vectors: Vectors, previous: _Cache | None
    ) -> _Cache:
        """The state of ``ids``/``vectors``; the previous graph is updated in place (removed
        and changed vectors out, new ones in) when most of it still holds, else rebuilt."""
        vectors = vectors.reshape(len(ids), self.spec.dims)
        if not self.spec.uses_graph:
            return _Cache(opstamp, ids, vectors, np.arange(len(ids), dtype=np.int64), None)
        if previous is not None and previous.graph is not None and len(previous.ids):
            # rows by (document, its n-th vector): semantic_text documents have several
            where = {key: i for i, key in enumerate(_occurrences(previous.ids))}
            same = np.zeros(len(previous.ids), dtype=bool)
            fresh = []
            for j, key in enumerate(_occurrences(ids)):
                i = where.get(key)
                if i is not None and np.array_equal(previous.vectors[i], vectors[j]):
                    same[i] = True
                else:
                    fresh.append(j)
            # a document with any changed row is re-added whole, so its rows stay in order
            changed = {ids[j] for j in fresh}
            if changed:
                same &= np.fromiter((d not in changed for d in previous.ids), bool, len(same))
                fresh = [j for j, d in enumerate(ids) if d in changed]
            if same.sum() * 2 >= len(previous.ids):
                graph = previous.graph
                gone = previous.keys[~same]
                if len(gone):
                    graph.remove(gone)
                first = int(previous.keys.max()) + 1
                new_keys = np.arange(first, first + len(fresh), dtype=np.int64)
                if fresh:
                    graph.add(new_keys, vectors[fresh], threads=1)
                kept = np.flatnonzero(same)
                return _Cache(
                    opstamp,
                    [previous.ids[i] for i in kept] + [ids[j] for j in fresh],
                    np.concatenate([previous.vectors[kept], vectors[fresh]]),
                    np.concatenate([previous.keys[kept], new_keys]),
                    graph,
                )
        graph = new_graph(self.spec)
        keys = np.arange(len(ids), dtype=np.int64)
        if len(ids):
            graph.add(keys, vectors, threads=1)
        return _Cache(opstamp, ids, vectors, keys, graph)

    # -- search ----------------------------------------------------------------------

    def search(
        self,
        cache: _Cache,
        query: Sequence[float],
        *,
        k: int,
        num_candidates: int,
        eligible: set[str] | None = None,
        min_score: float | None = None,
        exact: bool = False,
    ) -> list[tuple[str, float]]:
        """The ``k`` best ``(id, score)`` of the eligible documents, best first (equal scores
        in index order); ``min_score`` drops those below it (the knn ``similarity``)."""
        q = self.spec.check(list(query), what="query vector")
        n = len(cache.ids)
        if eligible is None:
            positions = None
            n_eligible = n
        else:
            mask = np.fromiter((i in eligible for i in cache.ids), dtype=bool, count=n)
            positions = np.flatnonzero(mask)
            n_eligible = len(positions)
        if n_eligible == 0 or k == 0:
            return []
        candidates: npt.NDArray[np.int64] | None = None
        if not exact and cache.graph is not None and n_eligible >= EXACT_BELOW:
            candidates = self._graph_candidates(
                cache, q, k, num_candidates, None if positions is None else mask, n_eligible
            )
        if candidates is None:
            candidates = np.arange(n) if positions is None else positions
        scores = self.spec.score(q, cache.vectors[candidates])
        order = np.lexsort((candidates, -scores))[:k]
        out = [(cache.ids[int(candidates[i])], float(scores[i])) for i in order]
        if min_score is not None:
            out = [(i, s) for i, s in out if s >= min_score]
        return out

    def _graph_candidates(
        self,
        cache: _Cache,
        q: Vectors,
        k: int,
        num_candidates: int,
        mask: npt.NDArray[np.bool_] | None,
        n_eligible: int,
    ) -> npt.NDArray[np.int64] | None:
        """Graph neighbours of ``q`` that are eligible; None (search exactly) when a filter
        leaves too few of them among the graph's answers."""
        n = len(cache.ids)
        want = max(num_candidates, k)
        if mask is not None:
            want = math.ceil(want * n / n_eligible * 1.2)
            if want > n // 4:
                return None  # a selective filter: exact over the few it keeps is cheaper
        graph = cache.graph
        # the whole beam comes back and is rescored in float32: the graph's 8-bit order
        # misplaces near-ties, which a short list cut by that order loses for good
        beam = max(MIN_EF_SEARCH, want)
        graph.expansion_search = beam
        keys = np.asarray(graph.search(q, beam, threads=1).keys, dtype=np.int64)
        found = np.searchsorted(cache.keys, keys)
        if mask is not None:
            found = found[mask[found]]
            if len(found) < min(k, n_eligible):
                return None
        return found
