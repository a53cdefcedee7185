"""Reranking on a ``semantic_text`` field, as ES does it: the reranker reads the field's values
(its own and those copied to it, which ``_source`` does not hold), and ``chunk_rescorer``
sends the field's own chunks closest to ``inference_text`` by the field's embeddings, unless
the rescorer asks for other chunking settings, when the text is chunked and scored by BM25 as
for any text field (ES: ``TextSimilarityRerankingRankFeaturePhaseRankShardContext`` with
``SemanticChunkScorer``; elastic/elasticsearch,
x-pack/plugin/inference/src/main/java/org/elasticsearch/xpack/inference/rank/textsimilarity/).

A backend offers this with :class:`SemanticFieldBackend` (:class:`~es_rerank.LocalIndex` does).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from es_rerank.chunking.rescore import Chunk
from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.rules import Candidate, Ranked, RerankCall, rerank_call

__all__ = ["SemanticFieldBackend", "semantic_rerank_call"]


@runtime_checkable
class SemanticFieldBackend(Protocol):
    """A backend that holds ``semantic_text`` fields and their chunks."""

    def semantic_field(self, field: str) -> object | None:
        """The field's chunking settings when ``field`` is semantic_text, else None."""
        ...

    def semantic_text(self, doc_id: str, field: str) -> list[str]:
        """The field's values for ``doc_id`` (empty when it has none)."""
        ...

    def best_chunks(self, doc_id: str, field: str, text: str, size: int) -> list[str] | None:
        """The ``size`` chunks of the field closest to ``text``, best first."""
        ...


def semantic_rerank_call(
    backend: object,
    window: Sequence[Ranked],
    field: str,
    inference_text: str,
    rescorer: ChunkRescorer | None,
) -> tuple[list[Candidate], RerankCall] | None:
    """Candidates and texts to send when ``field`` is a semantic_text field of ``backend``;
    None otherwise (the caller reads ``_source`` as for any field)."""
    if not isinstance(backend, SemanticFieldBackend):
        return None
    own_chunking = backend.semantic_field(field)
    if own_chunking is None:
        return None
    candidates = []
    for position, ranked in enumerate(window, start=1):
        values = backend.semantic_text(ranked.hit.id, field)
        if values:  # ES sends the first value, as for any multi-valued field
            candidates.append(Candidate(position, ranked.hit, values[0]))
    explicit = rescorer.chunking_settings if rescorer is not None else None
    if rescorer is None or (explicit is not None and explicit != own_chunking):
        return candidates, rerank_call(candidates, inference_text, rescorer)
    texts: list[str] = []
    owners: list[int] = []
    chunks: list[list[Chunk]] = []
    for c, candidate in enumerate(candidates):
        best = backend.best_chunks(candidate.hit.id, field, inference_text, rescorer.effective_size)
        kept = []
        for i, chunk in enumerate(best or []):
            start = max(candidate.text.find(chunk), 0)
            kept.append(Chunk(chunk, start, start + len(chunk), index=i, score=0.0))
        chunks.append(kept)
        texts.extend(k.text for k in kept)
        owners.extend([c] * len(kept))
    return candidates, RerankCall(texts, owners, chunks)
