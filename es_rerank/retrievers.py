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
    "DEFAULT_RESCORE_WINDOW_SIZE",
    "DEFAULT_RRF_RANK_CONSTANT",
    "NORMALIZERS",
    "STANDARD_OPTIONS",
    "DiversifyRetriever",
    "KnnRetriever",
    "LinearRetriever",
    "PinnedRetriever",
    "Query",
    "QueryFilter",
    "RRFRetriever",
    "RescorerRetriever",
    "Retriever",
    "RuleRetriever",
    "StandardRetriever",
    "TextSimilarityReranker",
    "WeightedRetriever",
    "filters_of",
    "retriever_from_dict",
]

DEFAULT_INFERENCE_ID = ".rerank-v1-elasticsearch"
DEFAULT_RANK_WINDOW_SIZE = 10
DEFAULT_RRF_RANK_CONSTANT = 60
#: ES's ``RescorerBuilder.DEFAULT_WINDOW_SIZE``
DEFAULT_RESCORE_WINDOW_SIZE = 10
#: The ``linear`` retriever's score normalizers (ES's ``ScoreNormalizer.valueOf``)
NORMALIZERS = ("none", "minmax", "l2_norm")
#: The standard retriever's own search options (ES's ``StandardRetrieverBuilder`` parser),
#: as the keys of a search request body
STANDARD_OPTIONS = ("sort", "search_after", "terminate_after", "min_score", "collapse")

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
    #: the name of the node's window parameter in ES's messages
    window_param: ClassVar[str] = "rank_window_size"
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
    if isinstance(value, Retriever | ChunkRescorer | WeightedRetriever):
        return value.to_dict()
    if isinstance(value, list | tuple) and any(
        isinstance(v, Retriever | WeightedRetriever) for v in value
    ):
        return [_to_json(v) for v in value]
    return copy.deepcopy(value)


def _check_normalizer(param: str, value: object) -> None:
    if value is not None and value not in NORMALIZERS:
        raise _fail(param, f"Unknown normalizer [{value}]")


@dataclass(frozen=True, kw_only=True)
class WeightedRetriever:
    """One entry of an ``rrf`` or ``linear`` retriever's ``retrievers`` in the wrapped
    format: ``{"retriever": {...}, "weight": w, "normalizer": n}`` (``normalizer`` is
    ``linear``'s only). ``weight`` defaults to 1.0 and must be non-negative.

    >>> WeightedRetriever(retriever=StandardRetriever(), weight=2.0).to_dict()
    {'retriever': {'standard': {}}, 'weight': 2.0}
    """

    retriever: Retriever
    weight: float | None = None
    normalizer: str | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.retriever, Retriever):
            raise _fail("retriever", "retriever component must contain a retriever")
        _check_number("retriever component", "weight", self.weight)
        if self.weight is not None and self.weight < 0:
            raise _fail("weight", f"[weight] must be non-negative, found [{float(self.weight)}]")
        _check_normalizer("normalizer", self.normalizer)

    @property
    def effective_weight(self) -> float:
        return 1.0 if self.weight is None else float(self.weight)

    def to_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {"retriever": self.retriever.to_dict()}
        if self.weight is not None:
            body["weight"] = self.weight
        if self.normalizer is not None:
            body["normalizer"] = self.normalizer
        return body


def _check_entries(kind: str, value: object, *, wrapped_only: bool) -> None:
    if value is None:
        return
    if isinstance(value, Retriever) or not isinstance(value, Sequence):
        raise _fail("retrievers", f"[{kind}] [retrievers] must be a list of retrievers")
    for entry in value:
        if isinstance(entry, WeightedRetriever):
            if kind == "rrf" and entry.normalizer is not None:
                raise _fail(
                    "normalizer", "unknown field [normalizer], expected [retriever] or [weight]"
                )
        elif not isinstance(entry, Retriever) or wrapped_only:
            raise _fail("retrievers", f"[{kind}] [retrievers] holds a non-retriever: {entry!r}")


def _check_multi_field(kind: str, retrievers: object, query: object, fields_: object) -> None:
    """ES's ``MultiFieldsInnerRetrieverUtils.validateParams`` and messages."""
    if fields_ is not None and (
        isinstance(fields_, str)
        or not isinstance(fields_, Sequence)
        or not all(isinstance(f, str) for f in fields_)
    ):
        raise _fail("fields", f"[{kind}] [fields] must be a list of strings")
    if query is not None and not isinstance(query, str):
        raise _fail("query", f"[{kind}] [query] must be a string")
    if fields_ or query is not None:
        if query is None:
            raise _fail("query", f"[{kind}] [query] must be provided when [fields] is specified")
        if not query:
            raise _fail("query", f"[{kind}] [query] cannot be empty")
        if fields_ is not None and not fields_:
            raise _fail("fields", f"[{kind}] [fields] cannot be empty")
        if retrievers:
            raise _fail("retrievers", f"[{kind}] cannot combine [retrievers] and [query]")
        for name in fields_ or ():
            _, _, boost = name.partition("^")
            try:
                negative = bool(boost) and float(boost) < 0
            except ValueError:
                raise _fail("fields", f"[{kind}] [fields] has a bad weight in [{name}]") from None
            if negative:
                raise _fail("fields", f"[{kind}] per-field weights must be non-negative")
    elif not retrievers:
        raise _fail("retrievers", f"[{kind}] must provide [retrievers] or [query]")


def _entry_retriever(entry: Retriever | WeightedRetriever) -> Retriever:
    return entry.retriever if isinstance(entry, WeightedRetriever) else entry


@dataclass(frozen=True, kw_only=True)
class StandardRetriever(Retriever):
    """A ``standard`` retriever: a query plus optional filters and ``min_score``.

    >>> StandardRetriever(query={"match": {"text": "sun"}}, filter={"term": {"tag": "a"}}).to_dict()
    {'standard': {'query': {'match': {'text': 'sun'}}, 'filter': {'term': {'tag': 'a'}}}}
    """

    kind: ClassVar[str] = "standard"

    query: Query | None = None
    filter: QueryFilter | None = None
    #: ES's own search options (``sort``, ``search_after``, ``terminate_after``,
    #: ``collapse``), as ES JSON; see :attr:`options`
    search_after: Sequence[Any] | None = None
    terminate_after: int | None = None
    sort: Any = None
    min_score: float | None = None
    collapse: Mapping[str, Any] | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_query(self.kind, "query", self.query)
        _check_filter(self.kind, self.filter)
        if self.search_after is not None and (
            isinstance(self.search_after, str | bytes | Mapping)
            or not isinstance(self.search_after, Sequence)
        ):
            raise _fail("search_after", "[standard] [search_after] must be an array of values")
        _check_int(self.kind, "terminate_after", self.terminate_after)
        if self.terminate_after is not None and self.terminate_after < 0:
            raise _fail("terminate_after", "terminateAfter must be > 0")
        if self.sort is not None and not isinstance(self.sort, str | Mapping | Sequence):
            raise _fail(
                "sort", f"[standard] [sort] must be a sort object or array, got {self.sort!r}"
            )
        _check_number(self.kind, "min_score", self.min_score)
        if self.collapse is not None and (
            not isinstance(self.collapse, Mapping)
            or not isinstance(self.collapse.get("field"), str)
        ):
            raise _fail("collapse", "[collapse] requires a [field]")
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def options(self) -> dict[str, Any]:
        """The standard retriever's own search options that are set, as search request
        keys (ES JSON): what :class:`~es_rerank.backends.SearchRequestBackend` runs.

        >>> StandardRetriever(sort=[{"year": "desc"}], terminate_after=5).options
        {'sort': [{'year': 'desc'}], 'terminate_after': 5}
        """
        return {
            key: _to_json(getattr(self, key))
            for key in STANDARD_OPTIONS
            if getattr(self, key) is not None
        }


@dataclass(frozen=True, kw_only=True)
class KnnRetriever(Retriever):
    """A ``knn`` retriever over a ``dense_vector`` field.

    >>> KnnRetriever(field="vector", query_vector=[0.2, 0.6], k=3, num_candidates=5).to_dict()
    {'knn': {'field': 'vector', 'query_vector': [0.2, 0.6], 'k': 3, 'num_candidates': 5}}
    """

    kind: ClassVar[str] = "knn"

    field: str
    #: a list of numbers, or a hex-encoded byte vector
    query_vector: Sequence[float] | str | None = None
    query_vector_builder: Mapping[str, Any] | None = None
    k: int
    num_candidates: int
    filter: QueryFilter | None = None
    similarity: float | None = None
    #: ``{"oversample": float}``: oversample and rescore quantized vectors (ES 9.1+)
    rescore_vector: Mapping[str, Any] | None = None
    #: share of vectors visited per shard with ``bbq_disk`` (ES 9.2+), 0..100
    visit_percentage: float | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_str(self.kind, "field", self.field, required=True)
        if self.rescore_vector is not None:
            if (
                not isinstance(self.rescore_vector, Mapping)
                or "oversample" not in self.rescore_vector
            ):
                raise _fail("rescore_vector", "[rescore_vector] requires [oversample]")
            _check_number(self.kind, "oversample", self.rescore_vector["oversample"])
        _check_number(self.kind, "visit_percentage", self.visit_percentage)
        if self.visit_percentage is not None and not 0 <= self.visit_percentage <= 100:
            raise _fail(
                "visit_percentage",
                f"[visit_percentage] must be between 0 and 100, got [{self.visit_percentage}]",
            )
        _check_number(self.kind, "min_score", self.min_score)
        if (self.query_vector is None) == (self.query_vector_builder is None):
            raise _fail(
                "query_vector",
                "[knn] exactly one of [query_vector] or [query_vector_builder] must be provided",
            )
        if isinstance(self.query_vector, str):
            try:
                bytes.fromhex(self.query_vector)
            except ValueError:
                raise _fail(
                    "query_vector", "[knn] [query_vector] must be numbers or a hex-encoded string"
                ) from None
        elif self.query_vector is not None:
            if isinstance(self.query_vector, bytes) or not isinstance(self.query_vector, Sequence):
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
    """Reciprocal rank fusion of child retrievers: ``sum(weight / (rank_constant + rank))``.

    ``retrievers`` holds retrievers (weight 1.0) or :class:`WeightedRetriever` entries
    (ES 9.2+); or use the multi-field format (ES 9.1+): ``query`` with optional
    ``fields``. ``rank_constant`` (default 60) and ``rank_window_size`` (default 10) are
    sent only when set, so parsed bodies round-trip exactly; :attr:`effective_rank_constant`
    and :attr:`effective_rank_window_size` give the values ES uses.

    >>> rrf = RRFRetriever(retrievers=[StandardRetriever(), StandardRetriever()], rank_constant=1)
    >>> rrf.to_dict()
    {'rrf': {'retrievers': [{'standard': {}}, {'standard': {}}], 'rank_constant': 1}}
    >>> rrf.effective_rank_window_size
    10
    """

    kind: ClassVar[str] = "rrf"

    retrievers: Sequence[Retriever | WeightedRetriever] | None = None
    query: str | None = None
    fields: Sequence[str] | None = None
    rank_constant: int | None = None
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_entries(self.kind, self.retrievers, wrapped_only=False)
        _check_multi_field(self.kind, self.retrievers, self.query, self.fields)
        _check_int(self.kind, "rank_constant", self.rank_constant, minimum=1)
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_rank_constant(self) -> int:
        return DEFAULT_RRF_RANK_CONSTANT if self.rank_constant is None else self.rank_constant

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    @property
    def weights(self) -> list[float]:
        """Each child's weight (1.0 unless given in the wrapped format)."""
        return [
            e.effective_weight if isinstance(e, WeightedRetriever) else 1.0
            for e in self.retrievers or ()
        ]

    def children(self) -> list[Retriever]:
        return [_entry_retriever(e) for e in self.retrievers or ()]


@dataclass(frozen=True, kw_only=True)
class LinearRetriever(Retriever):
    """The ``linear`` retriever: ``sum(weight_i * normalizer_i(score_i))`` over its
    children's top ``rank_window_size`` hits (ES 8.18+; ``normalizer`` at the top level as
    the sums' normalizer and ``l2_norm`` since 9.1/9.2). Children are
    :class:`WeightedRetriever` entries (a bare retriever is wrapped with weight 1.0), or
    use the multi-field format: ``query`` (+ ``fields``) with a ``normalizer``.

    >>> linear = LinearRetriever(
    ...     retrievers=[WeightedRetriever(retriever=StandardRetriever(), weight=5)],
    ...     normalizer="minmax",
    ... )
    >>> linear.to_dict()["linear"]["retrievers"]
    [{'retriever': {'standard': {}}, 'weight': 5}]
    >>> linear.normalizers, linear.final_normalizer
    (['none'], 'minmax')
    """

    kind: ClassVar[str] = "linear"

    retrievers: Sequence[WeightedRetriever | Retriever] | None = None
    query: str | None = None
    fields: Sequence[str] | None = None
    normalizer: str | None = None
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_entries(self.kind, self.retrievers, wrapped_only=False)
        if self.retrievers is not None:
            wrapped = [
                e if isinstance(e, WeightedRetriever) else WeightedRetriever(retriever=e)
                for e in self.retrievers
            ]
            object.__setattr__(self, "retrievers", wrapped)
        _check_multi_field(self.kind, self.retrievers, self.query, self.fields)
        _check_normalizer("normalizer", self.normalizer)
        for entry in self.entries:
            if self.normalizer is not None and entry.normalizer not in (None, self.normalizer):
                raise _fail(
                    "normalizer",
                    "[linear] All per-retriever normalizers must match the top-level "
                    f"normalizer [{self.normalizer}], found [{entry.normalizer}]",
                )
        if self.query is not None and self.normalizer is None:
            raise _fail(
                "normalizer", "[linear] [normalizer] must be provided when [query] is specified"
            )
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    @property
    def entries(self) -> list[WeightedRetriever]:
        return [e for e in self.retrievers or () if isinstance(e, WeightedRetriever)]

    @property
    def weights(self) -> list[float]:
        return [e.effective_weight for e in self.entries]

    @property
    def normalizers(self) -> list[str]:
        """Each child's normalizer before the weighted sum: its own, else ``none``. With a
        top-level ``normalizer`` the children's scores are summed as they are and the sums
        normalized (:attr:`final_normalizer`), as ES 9.2's REST tests show."""
        if self.normalizer is not None:
            return ["none"] * len(self.entries)
        return [e.normalizer or "none" for e in self.entries]

    @property
    def final_normalizer(self) -> str | None:
        return self.normalizer

    def children(self) -> list[Retriever]:
        return [e.retriever for e in self.entries]


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


def _check_child(kind: str, value: object) -> None:
    if not isinstance(value, Retriever):
        raise _fail("retriever", f"[{kind}] [retriever] must be a retriever, got {value!r}")


@dataclass(frozen=True, kw_only=True)
class RescorerRetriever(Retriever):
    """The ``rescorer`` retriever: ``rescore`` (one rescorer definition or a list, applied
    in order, as in a search request's ``rescore``) over the child's top documents. Its
    window is the smallest rescorer ``window_size`` (default 10).

    >>> rescore = {"window_size": 5, "query": {"rescore_query": {"match_all": {}}}}
    >>> r = RescorerRetriever(retriever=StandardRetriever(), rescore=rescore)
    >>> r.effective_rank_window_size
    5
    """

    kind: ClassVar[str] = "rescorer"
    window_param: ClassVar[str] = "window_size"

    retriever: Retriever
    rescore: Mapping[str, Any] | Sequence[Mapping[str, Any]]
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_child(self.kind, self.retriever)
        if not isinstance(self.rescore, Mapping | list | tuple):
            raise _fail(
                "rescore",
                "Unknown format for [rescorer.rescore], expects an object or an array of "
                f"objects, got: {self.rescore!r}",
            )
        if not self.rescorers:
            raise _fail("rescore", "Missing rescore definition")
        for item in self.rescorers:
            if not isinstance(item, Mapping):
                raise _fail("rescore", f"a rescorer definition must be an object, got {item!r}")
            _check_int(self.kind, "window_size", item.get("window_size"), minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def rescorers(self) -> list[Mapping[str, Any]]:
        return [self.rescore] if isinstance(self.rescore, Mapping) else list(self.rescore)

    @property
    def effective_rank_window_size(self) -> int:
        """ES's ``extractMinWindowSize``: the smallest ``window_size`` of the rescorers."""
        return min(int(r.get("window_size", DEFAULT_RESCORE_WINDOW_SIZE)) for r in self.rescorers)

    def children(self) -> list[Retriever]:
        return [self.retriever]


@dataclass(frozen=True, kw_only=True)
class RuleRetriever(Retriever):
    """The ``rule`` retriever: query rules from server-side rulesets (``ruleset_ids``)
    applied to the child's results for ``match_criteria``. It needs the cluster's query
    rulesets, so it runs natively (or as a native subtree) only.

    >>> RuleRetriever(retriever=StandardRetriever(), ruleset_ids=["r"],
    ...               match_criteria={"query_string": "pugs"}).effective_rank_window_size
    10
    """

    kind: ClassVar[str] = "rule"

    retriever: Retriever
    ruleset_ids: Sequence[str]
    match_criteria: Mapping[str, Any]
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        _check_child(self.kind, self.retriever)
        if isinstance(self.ruleset_ids, str) or not isinstance(self.ruleset_ids, Sequence):
            raise _fail("ruleset_ids", "[rule] [ruleset_ids] must be an array of strings")
        if not self.ruleset_ids:
            raise _fail("ruleset_ids", "rulesetIds must not be null or empty")
        if len(self.ruleset_ids) > 10:
            raise _fail("ruleset_ids", "rulesetIds must not contain more than 10 rulesets")
        if not isinstance(self.match_criteria, Mapping) or not self.match_criteria:
            raise _fail("match_criteria", "matchCriteria must not be null or empty")
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    def children(self) -> list[Retriever]:
        return [self.retriever]


@dataclass(frozen=True, kw_only=True)
class PinnedRetriever(Retriever):
    """The ``pinned`` retriever (ES 9.1+): documents ``ids`` (or ``docs``: ``{"_id",
    "_index"}`` objects) first, in the order given, then the child's results.

    >>> try:
    ...     PinnedRetriever(ids=["a"], docs=[{"_id": "b"}], retriever=StandardRetriever())
    ... except ValueError as exc:
    ...     print(exc)
    Both 'ids' and 'docs' cannot be specified at the same time
    """

    kind: ClassVar[str] = "pinned"

    ids: Sequence[str] | None = None
    docs: Sequence[Mapping[str, Any]] | None = None
    retriever: Retriever
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.ids is not None and self.docs is not None:
            raise _fail("ids", "Both 'ids' and 'docs' cannot be specified at the same time")
        if not self.ids and not self.docs:
            raise _fail(
                "ids", "Either 'ids' or 'docs' must be provided and non-empty for pinned retriever"
            )
        for doc_id in self.ids or ():
            if not isinstance(doc_id, str):
                raise _fail("ids", f"[pinned] [ids] must be strings, got {doc_id!r}")
        for doc in self.docs or ():
            if not isinstance(doc, Mapping) or not isinstance(doc.get("_id"), str):
                raise _fail("docs", "Item requires id to be non-null")
        pinned = self.pinned_ids
        if len(pinned) > 100:
            raise _fail("ids", f"[pinned] Max of 100 ids exceeded: {len(pinned)} provided.")
        if self.ids is not None and len(set(pinned)) != len(pinned):
            duplicate = next(i for i in pinned if pinned.count(i) > 1)
            raise _fail("ids", f"[pinned] duplicate id found in list: {duplicate}")
        keys = [(d.get("_index"), d["_id"]) for d in self.docs or ()]
        if len(set(keys)) != len(keys):
            raise _fail("docs", "[pinned] duplicate doc found in list")
        _check_child(self.kind, self.retriever)
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def pinned_ids(self) -> list[str]:
        if self.ids is not None:
            return list(self.ids)
        return [str(d["_id"]) for d in self.docs or ()]

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    def children(self) -> list[Retriever]:
        return [self.retriever]


@dataclass(frozen=True, kw_only=True)
class DiversifyRetriever(Retriever):
    """The ``diversify`` retriever (ES 9.3 preview): MMR over the child's top
    ``rank_window_size`` hits by a ``dense_vector`` ``field``; the Python name of ES's
    ``lambda`` is ``lambda_``.

    >>> DiversifyRetriever(type="mmr", field="v", lambda_=0.7, retriever=StandardRetriever()
    ...                    ).to_dict()["diversify"]["lambda"]
    0.7
    """

    kind: ClassVar[str] = "diversify"
    _json_names: ClassVar[Mapping[str, str]] = {"name": "_name", "lambda_": "lambda"}

    type: str
    field: str
    lambda_: float | None = None
    size: int | None = None
    query_vector: Sequence[float] | str | None = None
    retriever: Retriever
    rank_window_size: int | None = None
    filter: QueryFilter | None = None
    min_score: float | None = None
    name: str | None = None

    def __post_init__(self) -> None:
        if self.type != "mmr":
            raise _fail("type", f"[diversify] unknown diversification type [{self.type}]")
        _check_str(self.kind, "field", self.field, required=True)
        if self.lambda_ is None:
            raise _fail("lambda", "[diversify] MMR diversification requires a lambda value")
        _check_number(self.kind, "lambda", self.lambda_)
        if not 0.0 <= self.lambda_ <= 1.0:
            raise _fail("lambda", "[diversify] MMR lambda value must be between 0.0 and 1.0")
        _check_int(self.kind, "size", self.size, minimum=1)
        _check_child(self.kind, self.retriever)
        _check_int(self.kind, "rank_window_size", self.rank_window_size, minimum=0)
        _check_filter(self.kind, self.filter)
        _check_number(self.kind, "min_score", self.min_score)
        _check_str(self.kind, "_name", self.name, required=False)

    @property
    def effective_rank_window_size(self) -> int:
        if self.rank_window_size is None:
            return DEFAULT_RANK_WINDOW_SIZE
        return self.rank_window_size

    def children(self) -> list[Retriever]:
        return [self.retriever]


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


def _parse_entry(kind: str, value: Any) -> Retriever | WeightedRetriever:
    """One ``retrievers`` entry: a retriever (``rrf``'s direct format) or a wrapped
    ``{"retriever", "weight"[, "normalizer"]}`` (ES's ``RRFRetrieverComponent`` and
    ``LinearRetrieverComponent`` parsers)."""
    if not isinstance(value, Mapping) or not value:
        raise _fail("retrievers", "retriever component must contain a retriever")
    wrapped_keys = (
        ("retriever", "weight", "normalizer") if kind == "linear" else ("retriever", "weight")
    )
    if kind == "linear" or next(iter(value)) in ("retriever", "weight"):
        for key in value:
            if key not in wrapped_keys:
                expected = " or ".join(f"[{k}]" for k in wrapped_keys)
                raise _fail(key, f"unknown field [{key}], expected {expected}")
        if "retriever" not in value:
            raise _fail("retriever", "retriever component must contain a retriever")
        return WeightedRetriever(
            retriever=retriever_from_dict(value["retriever"]),
            weight=value.get("weight"),
            normalizer=value.get("normalizer"),
        )
    if len(value) != 1:
        extra = list(value)[1]
        raise _fail(extra, f"unknown field [{extra}] after retriever")
    return retriever_from_dict(value)


def _entries(kind: str) -> Callable[[Any], list[Retriever | WeightedRetriever]]:
    def parse(value: Any) -> list[Retriever | WeightedRetriever]:
        if not isinstance(value, Sequence) or isinstance(value, str | bytes | Mapping):
            raise _fail("retrievers", f"[{kind}] [retrievers] must be a list of retrievers")
        return [_parse_entry(kind, v) for v in value]

    return parse


def _inner(kind: str) -> Callable[[Any], Retriever]:
    def parse(value: Any) -> Retriever:
        if not isinstance(value, Mapping) or len(value) != 1:
            raise _fail("retriever", f"[{kind}] retriever should have exactly one inner retriever")
        return retriever_from_dict(value)

    return parse


_PARSERS: dict[str, tuple[type[Retriever], dict[str, Callable[[Any], Any]]]] = {
    "standard": (StandardRetriever, {}),
    "knn": (KnnRetriever, {}),
    "rrf": (RRFRetriever, {"retrievers": _entries("rrf")}),
    "linear": (LinearRetriever, {"retrievers": _entries("linear")}),
    "text_similarity_reranker": (
        TextSimilarityReranker,
        {"retriever": _inner("text_similarity_reranker")},
    ),
    "rescorer": (RescorerRetriever, {"retriever": _inner("rescorer")}),
    "rule": (RuleRetriever, {"retriever": _inner("rule")}),
    "pinned": (PinnedRetriever, {"retriever": _inner("pinned")}),
    "diversify": (DiversifyRetriever, {"retriever": _inner("diversify")}),
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
