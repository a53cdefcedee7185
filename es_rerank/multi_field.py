"""``TextSimilarityReranker(fields=[...])``: several fields in the retriever's external mode,
scored exactly as ES|QL's ``RERANK ... ON f1, f2`` scores them (one function,
:mod:`es_rerank.esql.rerank_inputs`): every non-blank value of every field is one input, and
a hit's raw score is the max over its inputs. A hit with no text in any field is dropped,
as the retriever drops a hit without its field. Elasticsearch's retriever takes one
``field``, so a tree with ``fields`` runs only externally; natively, ES|QL's ``RERANK`` is
the way (:mod:`es_rerank.esql`).

>>> from es_rerank import Hit, StandardRetriever, TextSimilarityReranker
>>> from es_rerank.rules import Ranked
>>> hits = [Ranked(Hit("a", 1.0, {"title": "War", "author": ["Leo", " "]})),
...         Ranked(Hit("b", 0.5, {"title": None}))]
>>> candidates, call = multi_field_call(hits, ("title", "author"))
>>> [c.hit.id for c in candidates], call.texts, call.owners
(['a'], ['War', 'Leo'], [0, 0])
"""

from __future__ import annotations

from collections.abc import Sequence

from es_rerank.chunking import Chunk
from es_rerank.errors import ConfigurationError
from es_rerank.esql.rerank_inputs import row_texts, source_values
from es_rerank.retrievers import Retriever, TextSimilarityReranker
from es_rerank.rules import Candidate, Ranked, RerankCall

__all__ = ["multi_field_call", "multi_field_nodes", "refuse_natively"]


def multi_field_nodes(retriever: Retriever) -> list[TextSimilarityReranker]:
    """The reranker nodes of the tree that use ``fields``."""
    found = []
    stack = [retriever]
    while stack:
        node = stack.pop()
        if isinstance(node, TextSimilarityReranker) and node.fields is not None:
            found.append(node)
        stack.extend(node.children())
    return found


def refuse_natively(retriever: Retriever) -> None:
    """Raise :class:`~es_rerank.errors.ConfigurationError` when the tree uses ``fields``."""
    nodes = multi_field_nodes(retriever)
    if nodes:
        fields = ", ".join(nodes[0].fields or ())
        raise ConfigurationError(
            f"text_similarity_reranker fields=[{fields}] runs only externally: "
            "Elasticsearch's retriever reranks one field. Use mode='external', or rerank "
            f'several fields natively with ES|QL: RERANK "..." ON {fields} '
            "(es_rerank.esql)"
        )


def multi_field_call(
    window: Sequence[Ranked], fields: Sequence[str]
) -> tuple[list[Candidate], RerankCall]:
    """The window's hits with text in ``fields`` and the one call that scores them: each
    value is sent as one input (shown as a "chunk" of the hit, at its offsets in the
    candidate's text, the values joined by newlines), owned by its hit."""
    candidates: list[Candidate] = []
    texts: list[str] = []
    owners: list[int] = []
    chunks: list[list[Chunk]] = []
    for position, ranked in enumerate(window, start=1):
        values = row_texts([source_values(ranked.hit.source, f) for f in fields])
        if not values:
            continue
        own: list[Chunk] = []
        start = 0
        for index, value in enumerate(values):
            own.append(Chunk(value, start, start + len(value), index, 0.0))
            start += len(value) + 1
        owners += [len(candidates)] * len(values)
        texts += values
        chunks.append(own)
        candidates.append(Candidate(position, ranked.hit, "\n".join(values)))
    return candidates, RerankCall(texts, owners, chunks)
