"""Code that chooses by a retriever's kind goes through one dispatch
(:func:`es_rerank.retriever_tree.dispatch`): a handler per class, found along the class's
bases, and a kind without one named in a ``ValueError``."""

from __future__ import annotations

import dataclasses
from typing import Any, ClassVar

import pytest

from es_rerank import Retriever, StandardRetriever, TextSimilarityReranker, search
from es_rerank.hits import Hit
from es_rerank.retriever_tree import dispatch, map_children
from es_rerank.retrievers import PinnedRetriever, retriever_from_dict
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


#: One tree of every kind, each with its children, written as ES JSON.
_A = {"standard": {"query": {"match": {"text": "moon"}}}}
_B = {"standard": {"query": {"match": {"text": "sun"}}}}
_Q = {"match_all": {}}
EVERY_KIND = [
    _A,
    {"knn": {"field": "v", "query_vector": [1.0, 0.0], "k": 3, "num_candidates": 5}},
    {"rrf": {"retrievers": [_A, _B]}},
    {
        "linear": {
            "retrievers": [
                {"retriever": _A, "weight": 2.0, "normalizer": "minmax"},
                {"retriever": _B, "weight": 1.0},
            ]
        }
    },
    {"text_similarity_reranker": {"retriever": _A, "field": "text", "inference_text": "q"}},
    {"rescorer": {"retriever": _A, "rescore": {"window_size": 5, "query": {"rescore_query": _Q}}}},
    {"rule": {"retriever": _A, "ruleset_ids": ["r"], "match_criteria": {"q": "x"}}},
    {"pinned": {"retriever": _A, "ids": ["a"]}},
    {"diversify": {"type": "mmr", "field": "v", "lambda": 0.5, "retriever": _A}},
]


def _pinned(child: Retriever) -> Retriever:
    """``child`` wrapped, so a replaced child is told from the original."""
    return PinnedRetriever(retriever=child, ids=["x"])


def test_every_kind_of_the_package_is_in_the_examples() -> None:
    kinds = {retriever_from_dict(tree).kind for tree in EVERY_KIND}
    package = [c for c in Retriever.__subclasses__() if c.__module__ == Retriever.__module__]
    assert kinds == {cls.kind for cls in package}


@pytest.mark.parametrize("tree", EVERY_KIND, ids=lambda t: next(iter(t)))
def test_map_children_replaces_each_child_of_every_kind(tree: dict[str, Any]) -> None:
    node = retriever_from_dict(tree)
    mapped = map_children(node, _pinned)
    assert type(mapped) is type(node)
    assert mapped.children() == [_pinned(c) for c in node.children()]
    # everything but the children is kept (a linear entry's weight and normalizer too)
    assert map_children(mapped, lambda c: c.children()[0]) == node


def test_map_children_names_a_kind_it_cannot_rewrite() -> None:
    with pytest.raises(ValueError, match=r"rewriting a retriever's children does not support"):
        map_children(MadeUp(), _pinned)
