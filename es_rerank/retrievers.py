"""Typed retriever specs that turn into exactly the JSON Elasticsearch accepts, and back.

Specs are frozen, keyword-only dataclasses validated at construction with ES's rules and
messages. Optional parameters left unset are omitted from :meth:`Retriever.to_dict`, so
``retriever_from_dict(d).to_dict() == d`` for every body ES accepts.

>>> from es_rerank import StandardRetriever, TextSimilarityReranker, retriever_from_dict
>>> spec = TextSimilarityReranker(
...     retriever=StandardRetriever(query={"match": {"text": "moon"}}),
...     field="text",
...     inference_text="How often does the moon hide the sun?",
...     rank_window_size=100,
... )
>>> spec.to_dict()["text_similarity_reranker"]["rank_window_size"]
100
>>> retriever_from_dict(spec.to_dict()) == spec
True
>>> TextSimilarityReranker(retriever=spec, field="text", inference_text="")
Traceback (most recent call last):
...
es_rerank.errors.RetrieverValidationError: Field [query] cannot be empty for task type [rerank]
"""

from __future__ import annotations

import copy
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import MISSING, dataclass, fields
from typing import Any, ClassVar

from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.errors import RetrieverValidationError

__all__ = [
    "DEFAULT_INFERENCE_ID",
    "DEFAULT_RANK_WINDOW_SIZE",
    "DEFAULT_RRF_RANK_CONSTANT",
    "KnnRetriever",
    "Query",
    "QueryFilter",
    "RRFRetriever",
    "Retriever",
    "StandardRetriever",
    "TextSimilarityReranker",
    "filters_of",
    "retriever_from_dict",
]

DEFAULT_INFERENCE_ID = ".rerank-v1-elasticsearch"
DEFAULT_RANK_WINDOW_SIZE = 10
DEFAULT_RRF_RANK_CONSTANT = 60

Query = Mapping[str, Any]
#: ``filter`` takes one query or a list of queries, as in ES.
QueryFilter = Query | Sequence[Query]


def _fail(param: str, message: str) -> RetrieverValidationError:
    return RetrieverValidationError(param, message)


def _check_int(kind: str, param: str, value: object, *, minimum: int | None = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise _fail(param, f"[{kind}] [{param}] must be an integer, got {value!r}")
    if minimum is not None and value < minimum:
        if param == "rank_window_size":
            raise _fail(param, f"[{param}] parameter cannot be negative, found [{value}]")
        raise _fail(
            param,
            f"[{kind}] [{param}] must be greater than or equal to [{minimum}], found [{value}]",
        )


def _check_number(kind: str, param: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _fail(param, f"[{kind}] [{param}] must be a finite number, got {value!r}")


def _check_str(kind: str, param: str, value: object, *, required: bool) -> None:
    if value is None and not required:
        return
    if not isinstance(value, str):
        raise _fail(param, f"[{kind}] [{param}] must be a string, got {value!r}")
    if required and not value:
        raise _fail(param, f"[{kind}] [{param}] must not be empty")


def _check_query(kind: str, param: str, value: object) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _fail(param, f"[{kind}] [{param}] must be a query object with one key, got {value!r}")


def _check_filter(kind: str, value: object) -> None:
    if value is None:
        return
    if isinstance(value, Mapping):
        _check_query(kind, "filter", value)
        return
    if isinstance(value, str | bytes) or not isinstance(value, Sequence):
        raise _fail("filter", f"[{kind}] [filter] must be a query or a list of queries")
    for item in value:
        _check_query(kind, "filter", item)


def filters_of(value: QueryFilter | None) -> list[Query]:
    """A ``filter`` parameter as a list of queries.

    >>> filters_of({"term": {"tag": "a"}}), filters_of(None)
    ([{'term': {'tag': 'a'}}], [])
    """
    if value is None:
        return []
    if isinstance(value, Mapping):
        return [value]
    return list(value)


class Retriever:
    """Base of all retriever specs. ``to_dict()`` gives ``{kind: {...}}`` as ES takes it."""

    kind: ClassVar[str] = ""
    # dataclass field name -> JSON key, for fields whose names differ
    _json_names: ClassVar[Mapping[str, str]] = {"name": "_name"}

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for f in fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            if value is None:
                continue
            key = self._json_names.get(f.name, f.name)
            body[key] = _to_json(value)
        return {self.kind: body}

    def children(self) -> list[Retriever]:
        """Direct child retrievers (empty for leaves)."""
        return []


def _to_json(value: Any) -> Any:
    if isinstance(value, Retriever | ChunkRescorer):
        return value.to_dict()
    if isinstance(value, list | tuple) and any(isinstance(v, Retriever) for v in value):
        return [_to_json(v) for v in value]
    return copy.deepcopy(value)


@dataclass(frozen=True, kw_only=True)
class StandardRetriever(Retriever):
    """A ``standard`` retriever: a query plus optional filters and ``min_score``.

    >>> StandardRetriever(query={"match": {"text": "sun"}}, filter={"term": {"tag": "a"}}).to_dict()
    {'standard': {'query': {'match': {'text': 'sun'}}, 'filter': {'term': {'tag': 'a'}}}}
    """

    kind: ClassVar[str] = "standard"

    query: Query | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_query(self.kind, "query", self.query)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)


@dataclass(frozen=True, kw_only=True)
class KnnRetriever(Retriever):
    """A ``knn`` retriever over a ``dense_vector`` field.

    >>> KnnRetriever(field="vector", query_vector=[0.2, 0.6], k=3, num_candidates=5).to_dict()
    {'knn': {'field': 'vector', 'query_vector': [0.2, 0.6], 'k': 3, 'num_candidates': 5}}
    """

    kind: ClassVar[str] = "knn"

    field: str
    query_vector: Sequence[float] | None = None
    query_vector_builder: Mapping[str, Any] | None = None
    k: int
    num_candidates: int
    filter: QueryFilter | None = None
    similarity: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.kind, "field", self.field, required=True)
        if (self.query_vector is None) == (self.query_vector_builder is None):
            raise _fail(
                "query_vector",
                "[knn] exactly one of [query_vector] or [query_vector_builder] must be provided",
            )
        if self.query_vector is not None:
            if isinstance(self.query_vector, str | bytes) or not isinstance(
                self.query_vector, Sequence
            ):
                raise _fail("query_vector", "[knn] [query_vector] must be a list of numbers")
            for v in self.query_vector:
                _check_number(self.kind, "query_vector", v)
        _check_int(self.kind, "k", self.k, minimum=1)
        _check_int(self.kind, "num_candidates", self.num_candidates, minimum=1)
        if self.num_candidates < self.k:
            raise _fail("num_candidates", "[num_candidates] cannot be less than [k]")
        if self.num_candidates > 10_000:
            raise _fail("num_candidates", "[num_candidates] cannot exceed [10000]")
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "similarity", self.similarity)
        _check_str(self.kind, "_name", self.name, required=False)


@dataclass(frozen=True, kw_only=True)
class RRFRetriever(Retriever):
    """Reciprocal rank fusion of child retrievers: ``sum(1 / (rank_constant + rank))``.

    ``rank_constant`` (default 60) and ``rank_window_size`` (default 10) are sent only when
    set, so parsed bodies round-trip exactly; :attr:`effective_rank_constant` and
    :attr:`effective_rank_window_size` give the values ES uses.

    >>> rrf = RRFRetriever(retrievers=[StandardRetriever(), StandardRetriever()], rank_constant=1)
    >>> rrf.to_dict()
    {'rrf': {'retrievers': [{'standard': {}}, {'standard': {}}], 'rank_constant': 1}}
    >>> rrf.effective_rank_window_size
    10
    """

    kind: ClassVar[str] = "rrf"

    retrievers: Sequence[Retriever]
    rank_constant: int | None = None
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.retrievers, Retriever) or not isinstance(self.retrievers, Sequence):
            raise _fail("retrievers", "[rrf] [retrievers] must be a list of retrievers")
        if not self.retrievers:
            raise _fail("retrievers", "[rrf] requires at least one retriever in [retrievers]")
        for child in self.retrievers:
            if not isinstance(child, Retriever):
                raise _fail("retrievers", f"[rrf] [retrievers] holds a non-retriever: {child!r}")
        _check_int(self.kind, "rank_constant", self.rank_constant, minimum=1)
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_rank_constant(self) -> int:
        return DEFAULT_RRF_RANK_CONSTANT if self.rank_constant is None else self.rank_constant

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    def children(self) -> list[Retriever]:
        return list(self.retrievers)


@dataclass(frozen=True, kw_only=True)
class TextSimilarityReranker(Retriever):
    """The ``text_similarity_reranker`` retriever: rerank the child's top
    ``rank_window_size`` hits by the text of ``field`` against ``inference_text``.

    ``fields`` (external only, instead of ``field``) reranks several fields as ES|QL's
    ``RERANK ... ON f1, f2`` does: every value is scored and a hit keeps its best (see
    :mod:`es_rerank.multi_field`); natively it is refused, ES|QL being the native way.

    ``min_score`` is compared with the reranker's RAW score, as ES does; returned scores
    are normalized (see :func:`es_rerank.normalize`). ``chunk_rescorer`` (ES 9.2+: a
    mapping as ES takes it, or a :class:`~es_rerank.ChunkRescorer`) sends each hit's best
    chunks instead of the whole text and scores the hit by its best chunk.

    >>> r = TextSimilarityReranker(
    ...     retriever=StandardRetriever(query={"match_all": {}}),
    ...     field="text", inference_text="q", min_score=-2.0, name="rerank",
    ... )
    >>> r.to_dict()["text_similarity_reranker"]["_name"], r.effective_inference_id
    ('rerank', '.rerank-v1-elasticsearch')
    >>> try:
    ...     TextSimilarityReranker(retriever=r, field="t", inference_text="q", rank_window_size=-1)
    ... except ValueError as exc:
    ...     print(exc.param, "|", exc)
    rank_window_size | [rank_window_size] parameter cannot be negative, found [-1]
    """

    kind: ClassVar[str] = "text_similarity_reranker"

    retriever: Retriever
    field: str | None = None
    fields: Sequence[str] | None = None
    # inference_id before inference_text: the order of ES's documentation examples
    inference_id: str | None = None
    inference_text: str
    rank_window_size: int | None = None
    min_score: float | None = None
    filter: QueryFilter | None = None
    allow_rerank_failures: bool | None = None
    chunk_rescorer: Mapping[str, Any] | ChunkRescorer | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.retriever, Retriever):
            raise _fail(
                "retriever",
                "[text_similarity_reranker] retriever should have exactly one inner retriever",
            )
        _check_fields(self)
        if not isinstance(self.inference_text, str):
            raise _fail(
                "inference_text", "[text_similarity_reranker] [inference_text] must be a string"
            )
        if not self.inference_text.strip():
            raise _fail("inference_text", "Field [query] cannot be empty for task type [rerank]")
        _check_str(self.kind, "inference_id", self.inference_id, required=False)
        if self.inference_id is not None and not self.inference_id:
            raise _fail(
                "inference_id", "[text_similarity_reranker] [inference_id] must not be empty"
            )
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_number(self.kind, "min_score", self.min_score)
        _check_filter(self.kind, self.filter)
        if self.allow_rerank_failures is not None and not isinstance(
            self.allow_rerank_failures, bool
        ):
            raise _fail(
                "allow_rerank_failures",
                "[text_similarity_reranker] [allow_rerank_failures] must be a boolean",
            )
        # ES's own parsing and messages (``size must be greater than 0, was: 0``), once
        parsed = None
        if isinstance(self.chunk_rescorer, ChunkRescorer):
            parsed = self.chunk_rescorer
        elif self.chunk_rescorer is not None:
            parsed = ChunkRescorer.from_dict(self.chunk_rescorer)
        object.__setattr__(self, "_chunk_rescorer", parsed)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_inference_id(self) -> str:
        return DEFAULT_INFERENCE_ID if self.inference_id is None else self.inference_id

    @property
    def effective_chunk_rescorer(self) -> ChunkRescorer | None:
        """``chunk_rescorer`` parsed and validated (a mapping keeps its JSON for
        :meth:`to_dict`, so bodies round-trip exactly); ``None`` when not set."""
        parsed: ChunkRescorer | None = self.__dict__["_chunk_rescorer"]
        return parsed

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    def children(self) -> list[Retriever]:
        return [self.retriever]


def _check_fields(node: TextSimilarityReranker) -> None:
    """``field``, or (external only) ``fields``: a non-empty list of field names."""
    kind = node.kind
    if node.fields is None:
        if node.field is None:
            raise _fail("field", f"[{kind}] required field [field] is missing")
        _check_str(kind, "field", node.field, required=True)
        return
    if node.field is not None:
        raise _fail("fields", f"[{kind}] takes [field] or [fields], not both")
    if (
        isinstance(node.fields, str | bytes)
        or not isinstance(node.fields, Sequence)
        or not node.fields
        or not all(isinstance(f, str) and f for f in node.fields)
    ):
        raise _fail("fields", f"[{kind}] [fields] must be a non-empty list of field names")
    if node.chunk_rescorer is not None:
        raise _fail("fields", f"[{kind}] [fields] cannot be combined with [chunk_rescorer]")
    object.__setattr__(node, "fields", tuple(node.fields))


# ---------------------------------------------------------------- parsing


def _parse_fields(
    cls: type[Retriever], body: Mapping[str, Any], convert: Mapping[str, Callable[[Any], Any]]
) -> Retriever:
    kind = cls.kind
    if not isinstance(body, Mapping):
        raise _fail(kind, f"[{kind}] must be an object, got {body!r}")
    names = {f.name for f in fields(cls)}  # type: ignore[arg-type]
    json_to_field = {cls._json_names.get(n, n): n for n in names}
    kwargs: dict[str, Any] = {}
    for key, value in body.items():
        if key not in json_to_field:
            raise _fail(key, f"[{kind}] unknown field [{key}]")
        field_name = json_to_field[key]
        kwargs[field_name] = convert[field_name](value) if field_name in convert else value
    try:
        return cls(**kwargs)
    except TypeError as exc:  # a required parameter is missing
        missing = [
            cls._json_names.get(f.name, f.name)
            for f in fields(cls)  # type: ignore[arg-type]
            if f.name not in kwargs and f.default is MISSING and f.default_factory is MISSING
        ]
        param = missing[0] if missing else kind
        if kind == "text_similarity_reranker" and param == "retriever":
            raise _fail(
                param,
                "[text_similarity_reranker] retriever should have exactly one inner retriever",
            ) from None
        raise _fail(param, f"[{kind}] required field [{param}] is missing") from exc


def _parse_list(value: Any) -> list[Retriever]:
    if not isinstance(value, Sequence) or isinstance(value, str | bytes | Mapping):
        raise _fail("retrievers", "[rrf] [retrievers] must be a list of retrievers")
    return [retriever_from_dict(v) for v in value]


def _parse_inner(value: Any) -> Retriever:
    if not isinstance(value, Mapping) or len(value) != 1:
        raise _fail(
            "retriever",
            "[text_similarity_reranker] retriever should have exactly one inner retriever",
        )
    return retriever_from_dict(value)


_PARSERS: dict[str, tuple[type[Retriever], dict[str, Callable[[Any], Any]]]] = {
    "standard": (StandardRetriever, {}),
    "knn": (KnnRetriever, {}),
    "rrf": (RRFRetriever, {"retrievers": _parse_list}),
    "text_similarity_reranker": (TextSimilarityReranker, {"retriever": _parse_inner}),
}


def retriever_from_dict(d: Mapping[str, Any]) -> Retriever:
    """Parse ES retriever JSON (``{"text_similarity_reranker": {...}}`` etc.) into a spec.

    Unknown retriever types and unknown keys raise :class:`RetrieverValidationError`
    naming the key.

    >>> retriever_from_dict({"standard": {"query": {"match_all": {}}, "size": 3}})
    Traceback (most recent call last):
    ...
    es_rerank.errors.RetrieverValidationError: [standard] unknown field [size]
    """
    if not isinstance(d, Mapping) or len(d) != 1:
        raise _fail("retriever", f"a retriever is an object with exactly one key, got {d!r}")
    ((kind, body),) = d.items()
    if kind not in _PARSERS:
        raise _fail(kind, f"unknown retriever [{kind}] (supported: {', '.join(sorted(_PARSERS))})")
    cls, convert = _PARSERS[kind]
    return _parse_fields(cls, body, convert)
