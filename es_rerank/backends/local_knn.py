"""The ``knn`` query on the local index, as ES runs it (``KnnVectorQueryBuilder``).

ES rewrites a ``knn`` query into the top ``k`` documents and their vector scores before it
scores anything else, so inside a ``bool`` it adds those scores like any clause. It is the same
here: the vector search runs first (its ``filter`` applied during the search, so ``k`` hits come
back whenever ``k`` documents match the filter), and the query becomes "these documents, with
these scores". ``k`` defaults to the request's ``size`` and ``num_candidates`` to
``min(round(1.5 * k), 10000)``, as in ES 8.13+.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import tantivy

from es_rerank.backends.vectors import VectorField, es_score

__all__ = ["KnnQuery", "parse_knn"]

#: ``KnnSearchBuilder.NUM_CANDS_LIMIT`` and ``NUM_CANDS_MULTIPLICATIVE_FACTOR``.
NUM_CANDS_LIMIT, NUM_CANDS_FACTOR = 10_000, 1.5

_KEYS = {
    "field",
    "query_vector",
    "query_vector_builder",
    "k",
    "num_candidates",
    "filter",
    "similarity",
    "boost",
    "_name",
}


class KnnQuery:
    """A parsed ``knn`` body: what to search and how many."""

    def __init__(
        self,
        field: str,
        vector: Sequence[float],
        k: int,
        num_candidates: int,
        filters: list[Any],
        similarity: float | None,
        boost: float,
    ) -> None:
        self.field, self.vector, self.k = field, vector, k
        self.num_candidates, self.filters = num_candidates, filters
        self.similarity, self.boost = similarity, boost


def _positive_int(body: Mapping[str, Any], key: str) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"knn: [{key}] must be an integer, got {value!r}")
    return value


def parse_knn(
    body: Any, *, size: int, embed: Callable[[Mapping[str, Any]], Sequence[float]]
) -> KnnQuery:
    """Validate a ``knn`` body with ES's messages; ``embed`` runs a
    ``query_vector_builder``."""
    if not isinstance(body, Mapping):
        raise ValueError("knn: expected an object")
    unknown = sorted(set(body) - _KEYS)
    if unknown:
        raise ValueError(f"knn: parameter(s) {unknown} not supported by the local index")
    field = body.get("field")
    if not isinstance(field, str) or not field:
        raise ValueError("knn: [field] is required")
    if ("query_vector" in body) == ("query_vector_builder" in body):
        raise ValueError(
            "knn: exactly one of [query_vector] or [query_vector_builder] must be provided"
        )
    if "query_vector" in body:
        vector = body["query_vector"]
        if not isinstance(vector, list):
            raise ValueError("knn: [query_vector] must be an array of numbers")
    else:
        vector = list(embed(body["query_vector_builder"]))
    k = _positive_int(body, "k")
    num_candidates = _positive_int(body, "num_candidates")
    if k is None:
        k = max(size, 1)
    if k < 1:
        raise ValueError("knn: [k] must be greater than 0")
    if num_candidates is None:
        num_candidates = round(min(NUM_CANDS_FACTOR * k, NUM_CANDS_LIMIT))
        num_candidates = max(num_candidates, k)
    if num_candidates > NUM_CANDS_LIMIT:
        raise ValueError(f"knn: [num_candidates] cannot exceed [{NUM_CANDS_LIMIT}]")
    if num_candidates < k:
        raise ValueError("knn: [num_candidates] cannot be less than [k]")
    raw_filter = body.get("filter", [])
    filters = raw_filter if isinstance(raw_filter, list) else [raw_filter]
    similarity = body.get("similarity")
    if similarity is not None and (
        isinstance(similarity, bool) or not isinstance(similarity, (int, float))
    ):
        raise ValueError(f"knn: [similarity] must be a number, got {similarity!r}")
    boost = body.get("boost", 1.0)
    if isinstance(boost, bool) or not isinstance(boost, (int, float)):
        raise ValueError(f"knn: [boost] must be a number, got {boost!r}")
    return KnnQuery(
        field,
        vector,
        k,
        num_candidates,
        filters,
        None if similarity is None else float(similarity),
        float(boost),
    )


def min_score(field: VectorField, similarity: float | None) -> float | None:
    """The knn ``similarity`` threshold as a score: ES converts it with the field's own
    transform (for ``l2_norm`` it is a distance, a maximum)."""
    if similarity is None:
        return None
    import numpy as np

    return float(es_score(field.spec.similarity, np.array([similarity], dtype=np.float32))[0])


def as_query(
    schema: tantivy.Schema, id_field: str, hits: Sequence[tuple[str, float]], boost: float
) -> tantivy.Query:
    """Exactly ``hits``, each scoring its vector score times ``boost``."""
    if not hits:
        return tantivy.Query.empty_query()
    return tantivy.Query.boolean_query(
        [
            (
                tantivy.Occur.Should,
                tantivy.Query.const_score_query(
                    tantivy.Query.term_query(schema, id_field, doc_id), score * boost
                ),
            )
            for doc_id, score in hits
        ]
    )
