"""Code that chooses by a retriever's kind goes through one dispatch
(:func:`es_rerank.retriever_tree.dispatch`): a handler per class, found along the class's
bases, and a kind without one named in a ``ValueError``."""

from __future__ import annotations

import dataclasses
from typing import ClassVar

import pytest

from es_rerank import Retriever, StandardRetriever, TextSimilarityReranker, search
from es_rerank.hits import Hit
from es_rerank.retriever_tree import dispatch
from es_rerank.rules import top_docs_query


@dataclasses.dataclass(frozen=True)
class MadeUp(Retriever):
    kind: ClassVar[str] = "made_up"
    filter: None = None


class Nothing:
    def search_query(self, query: object, *, size: int) -> list[Hit]:
        return []


def test_a_kind_without_a_handler_is_named() -> None:
    with pytest.raises(ValueError, match=r"the example does not support \[made_up\] retrievers"):
        dispatch(MadeUp(), {StandardRetriever: lambda n: n}, what="the example")


def test_a_subclass_finds_its_bases_handler() -> None:
    @dataclasses.dataclass(frozen=True)
    class Special(StandardRetriever):
        pass

    assert dispatch(Special(), {StandardRetriever: lambda n: "standard"}, what="x") == "standard"


def test_the_executor_and_the_total_query_name_an_unknown_kind() -> None:
    spec = TextSimilarityReranker(retriever=MadeUp(), field="text", inference_text="q")
    with pytest.raises(ValueError, match=r"external execution does not support \[made_up\]"):
        top_docs_query(MadeUp())
    with pytest.raises(ValueError, match=r"does not support \[made_up\]"):
        search(spec, backend=Nothing(), reranker=lambda q, texts: [0.0] * len(texts))
