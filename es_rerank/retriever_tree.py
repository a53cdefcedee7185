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
import re
from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar, cast

from es_rerank.retrievers import (
    DiversifyRetriever,
    KnnRetriever,
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
    ``weight`` and ``normalizer``), chosen by the node's class through :func:`dispatch`:
    a kind without a handler is a ``ValueError``, never returned with its children
    untouched."""

    def entries(n: RRFRetriever | LinearRetriever) -> Retriever:
        if n.retrievers is None:
            return n  # the multi-field format: no child retrievers yet
        mapped = [
            dataclasses.replace(e, retriever=fn(e.retriever))
            if isinstance(e, WeightedRetriever)
            else fn(e)
            for e in n.retrievers
        ]
        return dataclasses.replace(n, retrievers=mapped)

    def single(n: Any) -> Retriever:
        replaced: Retriever = dataclasses.replace(n, retriever=fn(n.retriever))
        return replaced

    def leaf(n: Retriever) -> Retriever:
        return n

    handlers: dict[type[Retriever], Callable[[Any], Retriever]] = {
        StandardRetriever: leaf,
        KnnRetriever: leaf,
        RRFRetriever: entries,
        LinearRetriever: entries,
        TextSimilarityReranker: single,
        RescorerRetriever: single,
        RuleRetriever: single,
        PinnedRetriever: single,
        DiversifyRetriever: single,
    }
    return cast(R, dispatch(node, handlers, what="rewriting a retriever's children"))


def own_window(node: Retriever) -> int | None:
    """The number of documents a compound node ranks (its ``rank_window_size``, or a
    ``rescorer``'s smallest ``window_size``); ``None`` for a leaf."""
    window: int | None = getattr(node, "effective_rank_window_size", None)
    return window


def expand_multi_field(node: R, semantic_fields: Collection[str] = ()) -> R:
    """ES's rewrite of an ``rrf``/``linear`` in the multi-field format (``query`` +
    ``fields``) into retrievers (``MultiFieldsInnerRetrieverUtils.generateInnerRetrievers``,
    elastic/elasticsearch x-pack/plugin/rank-rrf at 2be548cc): one ``standard`` retriever
    with a ``most_fields`` ``multi_match`` over the fields that are not ``semantic_text``
    (no fields means ``index.query.default_field``, ``*``), and, when the fields name or
    match (``*`` patterns) any of the index's ``semantic_fields``, an inner ``rrf`` /
    ``linear`` (same window and constant) of one ``match`` per such field, the field's
    weight as its weight. A ``linear`` child gets the top-level ``normalizer`` and weight 1.

    >>> tree = RRFRetriever(query="moon", fields=["title", "body^3"])
    >>> inner = expand_multi_field(tree, ["body"]).to_dict()["rrf"]["retrievers"][1]
    >>> inner["rrf"]["retrievers"]
    [{'retriever': {'standard': {'query': {'match': {'body': 'moon'}}}}, 'weight': 3.0}]
    """
    if not isinstance(node, RRFRetriever | LinearRetriever) or node.query is None:
        return node
    fields = list(node.fields) if node.fields else ["*"]
    semantic: dict[str, float] = {}
    for entry in fields:
        name, _, boost = entry.partition("^")
        weight = float(boost) if boost else 1.0
        for field in semantic_fields:
            if field == name or ("*" in name and _simple_match(name, field)):
                semantic[field] = semantic.get(field, 1.0) * weight
    lexical_fields = [f for f in fields if f.partition("^")[0] not in semantic]
    children: list[Retriever] = []
    if lexical_fields:
        children.append(
            StandardRetriever(
                query={
                    "multi_match": {
                        "query": node.query,
                        "type": "most_fields",
                        "fields": lexical_fields,
                    }
                }
            )
        )
    if isinstance(node, LinearRetriever):
        if semantic:
            per_field = [
                WeightedRetriever(
                    retriever=_semantic_match(f, node.query), weight=w, normalizer=node.normalizer
                )
                for f, w in semantic.items()
            ]
            inner = LinearRetriever(retrievers=per_field, rank_window_size=node.rank_window_size)
            children.append(inner)
        entries = [WeightedRetriever(retriever=c, normalizer=node.normalizer) for c in children]
        return dataclasses.replace(
            node, retrievers=entries, query=None, fields=None, normalizer=None
        )
    out: list[Retriever | WeightedRetriever] = list(children)
    if semantic:
        inner_rrf = RRFRetriever(
            retrievers=[
                WeightedRetriever(retriever=_semantic_match(f, node.query), weight=w)
                for f, w in semantic.items()
            ],
            rank_constant=node.rank_constant,
            rank_window_size=node.rank_window_size,
        )
        out.append(inner_rrf)
    return dataclasses.replace(node, retrievers=out, query=None, fields=None)


def _semantic_match(field: str, query: str) -> StandardRetriever:
    return StandardRetriever(query={"match": {field: query}})


def _simple_match(pattern: str, name: str) -> bool:
    """ES's ``Regex.simpleMatch``: ``*`` matches any run of characters, nothing else is
    special."""
    parts = pattern.split("*")
    return re.fullmatch(".*".join(map(re.escape, parts)), name) is not None
