"""Walking and rewriting retriever trees: the nodes of a tree, whether a subtree reranks,
a node with its children replaced, ES's rewrite of the multi-field format, and the one way
code chooses what to do by a node's kind (:func:`dispatch`).

>>> from es_rerank.retrievers import RRFRetriever, StandardRetriever
>>> tree = RRFRetriever(query="moon", fields=["title^2", "text"])
>>> expand_multi_field(tree).to_dict()["rrf"]["retrievers"][0]["standard"]["query"]
{'multi_match': {'query': 'moon', 'type': 'most_fields', 'fields': ['title^2', 'text']}}
>>> [n.kind for n in walk(expand_multi_field(tree))], has_reranker(tree)
(['rrf', 'standard'], False)
>>> dispatch(tree, {RRFRetriever: lambda n: n.fields}, what="this example")
['title^2', 'text']
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from es_rerank.retrievers import (
    DiversifyRetriever,
    LinearRetriever,
    PinnedRetriever,
    RescorerRetriever,
    Retriever,
    RRFRetriever,
    RuleRetriever,
    StandardRetriever,
    TextSimilarityReranker,
    WeightedRetriever,
)

__all__ = ["dispatch", "expand_multi_field", "has_reranker", "map_children", "own_window", "walk"]

R = TypeVar("R", bound=Retriever)
T = TypeVar("T")


def dispatch(
    node: Retriever, handlers: Mapping[type[Retriever], Callable[[Any], T]], *, what: str
) -> T:
    """``handlers[kind of node](node)``: the handler of ``node``'s class (or of the nearest
    class it derives from). A kind without one is a ``ValueError`` saying that ``what`` does
    not support it, as ES names a retriever it cannot run."""
    for cls in type(node).__mro__:
        handler = handlers.get(cls)
        if handler is not None:
            return handler(node)
    raise ValueError(f"{what} does not support [{node.kind}] retrievers")


#: The single-child retrievers (one ``retriever`` parameter).
_SINGLE_CHILD = (
    TextSimilarityReranker,
    RescorerRetriever,
    RuleRetriever,
    PinnedRetriever,
    DiversifyRetriever,
)


def walk(node: Retriever) -> list[Retriever]:
    """``node`` and all its descendants, depth first, in tree order."""
    out = [node]
    for child in node.children():
        out.extend(walk(child))
    return out


def has_reranker(node: Retriever) -> bool:
    """Whether a ``text_similarity_reranker`` is in the subtree (it runs client-side)."""
    return any(isinstance(n, TextSimilarityReranker) for n in walk(node))


def map_children(node: R, fn: Callable[[Retriever], Retriever]) -> R:
    """``node`` with each direct child replaced by ``fn(child)`` (entries keep their
    ``weight`` and ``normalizer``)."""
    if isinstance(node, RRFRetriever | LinearRetriever):
        if node.retrievers is None:
            return node
        entries = [
            dataclasses.replace(e, retriever=fn(e.retriever))
            if isinstance(e, WeightedRetriever)
            else fn(e)
            for e in node.retrievers
        ]
        return dataclasses.replace(node, retrievers=entries)
    if isinstance(node, _SINGLE_CHILD):
        return dataclasses.replace(node, retriever=fn(node.retriever))
    return node


def own_window(node: Retriever) -> int | None:
    """The number of documents a compound node ranks (its ``rank_window_size``, or a
    ``rescorer``'s smallest ``window_size``); ``None`` for a leaf."""
    window: int | None = getattr(node, "effective_rank_window_size", None)
    return window


def expand_multi_field(node: R) -> R:
    """ES's rewrite of an ``rrf``/``linear`` in the multi-field format (``query`` +
    ``fields``) into retrievers, for an index without ``semantic_text`` fields: one
    ``standard`` retriever with a ``most_fields`` ``multi_match`` over the fields (ES's
    ``MultiFieldsInnerRetrieverUtils``; no fields means ``index.query.default_field``,
    ``*``). A ``linear`` child gets the top-level ``normalizer`` and weight 1."""
    if not isinstance(node, RRFRetriever | LinearRetriever) or node.query is None:
        return node
    fields = list(node.fields) if node.fields else ["*"]
    lexical = StandardRetriever(
        query={"multi_match": {"query": node.query, "type": "most_fields", "fields": fields}}
    )
    if isinstance(node, LinearRetriever):
        entry = WeightedRetriever(retriever=lexical, normalizer=node.normalizer)
        return dataclasses.replace(
            node, retrievers=[entry], query=None, fields=None, normalizer=None
        )
    return dataclasses.replace(node, retrievers=[lexical], query=None, fields=None)
