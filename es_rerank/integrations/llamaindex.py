"""LlamaIndex: rerank retrieved nodes with es-rerank (extra ``llamaindex``:
``llama-index-core``).

:class:`EsRerankNodePostprocessor` is a ``BaseNodePostprocessor``: pass it as a query
engine's ``node_postprocessors``. Each returned ``NodeWithScore`` carries ES's normalized
score as ``score`` and a copy of the node whose metadata holds ``rerank_raw_score`` and
``rerank_score`` (the input nodes are not changed).

>>> from llama_index.core.schema import NodeWithScore, QueryBundle, TextNode
>>> post = EsRerankNodePostprocessor(reranker=lambda q, texts: [len(t) for t in texts], top_n=1)
>>> nodes = [NodeWithScore(node=TextNode(text="ab")), NodeWithScore(node=TextNode(text="abc"))]
>>> [n.node.get_content() for n in post.postprocess_nodes(nodes, query_str="q")]
['abc']
"""

from __future__ import annotations

from es_rerank.extras import require_extra

require_extra("llamaindex", "llama_index", feature="es_rerank.integrations.llamaindex")

from llama_index.core.postprocessor.types import BaseNodePostprocessor  # noqa: E402
from llama_index.core.schema import MetadataMode, NodeWithScore, QueryBundle  # noqa: E402

from es_rerank.errors import ConfigurationError  # noqa: E402
from es_rerank.integrations.ranking import RankOptions, scored_metadata  # noqa: E402

__all__ = ["EsRerankNodePostprocessor"]


class EsRerankNodePostprocessor(RankOptions, BaseNodePostprocessor):
    """Reorders nodes by an es-rerank reranker's score of their text.

    ``reranker``: a :class:`~es_rerank.Reranker` or ``f(query, texts) -> raw scores``;
    ``top_n``: keep the best N (all when None); ``min_score``: drop raw scores below it.
    """

    @classmethod
    def class_name(cls) -> str:
        return "EsRerankNodePostprocessor"

    def _postprocess_nodes(
        self, nodes: list[NodeWithScore], query_bundle: QueryBundle | None = None
    ) -> list[NodeWithScore]:
        if query_bundle is None:
            raise ConfigurationError("EsRerankNodePostprocessor needs the query (query_bundle)")
        texts = [n.node.get_content(metadata_mode=MetadataMode.NONE) for n in nodes]
        ranked = self.ranked(query_bundle.query_str, texts)
        out = []
        for r in ranked:
            node = nodes[r.index].node.model_copy(deep=True)
            node.metadata = scored_metadata(node.metadata, r)
            out.append(NodeWithScore(node=node, score=r.score))
        return out
