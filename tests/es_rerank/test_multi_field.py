"""TextSimilarityReranker(fields=[...]): the retriever's external mode scores several fields
exactly as ES|QL's RERANK does (the same rows through es_rerank.esql give the same raw
scores), is validated and round-trips, and is refused natively naming ES|QL RERANK."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pytest

from es_rerank import (
    ConfigurationError,
    RetrieverValidationError,
    StandardRetriever,
    TextSimilarityReranker,
    denormalize,
    retriever_from_dict,
    search,
)
from es_rerank.esql import EsqlQuery, run_external
from tests.helpers.memory_backend import MemoryBackend

DOCS = [
    {"_id": "a", "title": "War and Peace", "author": "Leo Tolstoy", "year": 1869},
    {"_id": "b", "title": "Signet", "author": ["John Hockenberry", "Leo Tolstoy", "Pat Conroy"]},
    {"_id": "c", "title": None, "author": [" ", ""]},  # no text at all: dropped
    {"_id": "d", "title": "   ", "author": "Tolstoy Leo", "year": 2013},
    {"_id": "e", "title": "x", "other": "ignored"},
]


def inverse_length(query: str, texts: Sequence[str]) -> list[float]:
    return [1.0 / len(t) - 0.1 for t in texts]  # some raw scores negative, as logits are


def spec(**kw: Any) -> TextSimilarityReranker:
    params: dict[str, Any] = {
        "retriever": StandardRetriever(query={"match_all": {}}),
        "fields": ["title", "author", "year"],
        "inference_text": "war",
    }
    params.update(kw)
    return TextSimilarityReranker(**params)


class Rows:
    def __init__(self, docs: Sequence[dict[str, Any]], names: Sequence[str]) -> None:
        self.body = {
            "columns": [{"name": "_id", "type": "keyword"}]
            + [{"name": n, "type": "keyword"} for n in names],
            "values": [[d["_id"], *(d.get(n) for n in names)] for d in docs],
        }

    def esql(self, query: str) -> dict[str, Any]:
        return self.body


def test_several_fields_score_as_esql_rerank_scores_them() -> None:
    result = search(spec(), backend=MemoryBackend(DOCS), reranker=inverse_length, size=10)
    raw = {h.id: denormalize(h.score) for h in result.hits}
    esql = run_external(
        EsqlQuery.from_("docs").rerank("war", on=["title", "author", "year"]),
        source=Rows(DOCS, ["title", "author", "year"]),
        reranker=inverse_length,
    )
    expected = {row["_id"]: row["_score"] for row in esql.rows() if row["_score"] is not None}
    assert set(raw) == set(expected) == {"a", "b", "d", "e"}  # c has no text: dropped
    for doc_id, score in expected.items():
        # ES|QL keeps ES's float scores; the retriever normalizes the raw double.
        assert raw[doc_id] == pytest.approx(score, rel=1e-6)
    # Each hit keeps its best value: b its title "Signet" over "Pat Conroy", a its year.
    assert raw["b"] == pytest.approx(1 / 6 - 0.1)
    assert raw["a"] == pytest.approx(1 / 4 - 0.1)
    assert [h.id for h in result.hits] == ["e", "a", "d", "b"]


def test_one_call_sends_every_value_and_explain_shows_them() -> None:
    calls: list[list[str]] = []

    def rec(query: str, texts: Sequence[str]) -> list[float]:
        calls.append(list(texts))
        return [float(len(t)) for t in texts]

    result = search(
        spec(fields=["author"]), backend=MemoryBackend(DOCS), reranker=rec, explain=True
    )
    assert calls == [
        ["Leo Tolstoy", "John Hockenberry", "Leo Tolstoy", "Pat Conroy", "Tolstoy Leo"]
    ]
    assert result.explanation is not None
    explanation = result.explanation[0]
    assert explanation.field == "author"
    by_id = {h.id: h for h in explanation.hits}
    assert by_id["b"].raw_score == 16.0 and len(by_id["b"].chunks) == 3
    assert by_id["c"].final_rank is None


@pytest.mark.parametrize(
    ("kw", "param", "message"),
    [
        ({"field": "title"}, "fields", "takes [field] or [fields], not both"),
        ({"fields": []}, "fields", "non-empty list of field names"),
        ({"fields": "title"}, "fields", "non-empty list of field names"),
        ({"fields": ["title", ""]}, "fields", "non-empty list of field names"),
        ({"chunk_rescorer": {"size": 1}}, "fields", "cannot be combined with [chunk_rescorer]"),
        ({"fields": None}, "field", "required field [field] is missing"),
    ],
)
def test_fields_are_validated(kw: dict[str, Any], param: str, message: str) -> None:
    with pytest.raises(RetrieverValidationError) as err:
        spec(**kw)
    assert err.value.param == param and message in str(err.value)


def test_fields_round_trip_through_json() -> None:
    node = spec(rank_window_size=5)
    body = json.loads(json.dumps(node.to_dict()))
    assert body["text_similarity_reranker"]["fields"] == ["title", "author", "year"]
    assert retriever_from_dict(body) == node


class NativeBackend(MemoryBackend):
    """A backend that could run retrievers natively; it must not be asked to."""

    def supports_native(self) -> bool:
        return True

    def search_retriever(self, request: Any) -> Any:
        raise AssertionError("fields=[...] was sent to Elasticsearch")


def test_fields_are_refused_natively_naming_esql_rerank() -> None:
    with pytest.raises(ConfigurationError, match=r"runs only externally.*ES\|QL: RERANK"):
        search(spec(), backend=NativeBackend(DOCS), mode="native")
    nested = spec(retriever=spec())
    with pytest.raises(ConfigurationError, match="fields=\\[title, author, year\\]"):
        search(
            TextSimilarityReranker(retriever=nested, field="title", inference_text="q"),
            backend=NativeBackend(DOCS),
            mode="native",
        )


def test_auto_mode_runs_fields_externally() -> None:
    result = search(spec(), backend=NativeBackend(DOCS), reranker=inverse_length)
    assert result.mode == "external" and len(result.hits) == 4
