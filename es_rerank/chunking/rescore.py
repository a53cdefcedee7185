"""From a document's field text to the reranker inputs, and from chunk scores back to one
document score, as ES 9.2's rank-feature phase does it.

Shard side (``TextSimilarityRerankingRankFeaturePhaseRankShardContext``): chunk the first
value of the field, score the chunks with ``MemoryIndexChunkScorer`` against
``inference_text`` and keep the best ``size`` (backfilled with the first chunks when none
matches). Coordinator side (``TextSimilarityRankFeaturePhaseRankCoordinatorContext``): all
kept chunks of all documents go into one rerank call, in document order; a document's raw
score is the **max** of its chunks' scores (``extractScoresFromRankedChunks``, mapped by
each result's ``index``); then ``min_score`` is compared with that raw max and the
survivors are normalized (``preprocess``), exactly as for unchunked documents.

>>> from es_rerank.chunking import ChunkRescorer, WordChunking
>>> rescorer = ChunkRescorer(size=2, chunking_settings=WordChunking(max_chunk_size=10, overlap=1))
>>> text = "Moons orbit planets. " * 4 + "A solar eclipse hides the sun when the moon passes."
>>> [(c.index, c.text) for c in best_chunks(text, "when does the moon hide the sun", rescorer)]
[(2, ' when the moon passes.'), (1, '. Moons orbit planets. A solar eclipse hides the sun when')]
>>> document_score([-2.5, 0.75, -1.0])
0.75
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from es_rerank.chunking.bm25 import score_chunks
from es_rerank.chunking.chunkers import chunk_offsets
from es_rerank.chunking.settings import ChunkRescorer

__all__ = [
    "Chunk",
    "RerankInputs",
    "best_chunks",
    "document_score",
    "document_scores",
    "rerank_inputs",
]


@dataclass(frozen=True)
class Chunk:
    """A chunk sent to the reranker: its text, ``text[start:end]`` offsets in the field
    value (Python indices), its position among the document's chunks and its first-stage
    BM25 score (0.0 when it was sent only because no chunk matched the query)."""

    text: str
    start: int
    end: int
    index: int
    score: float


def best_chunks(
    text: str, inference_text: str, rescorer: ChunkRescorer | None = None
) -> list[Chunk]:
    """The chunks ES sends for one document, best BM25 score first.

    At most ``rescorer.effective_size`` chunks: fewer when fewer chunks share a term with
    ``inference_text`` (only matching chunks are kept), the first ones in text order
    when none does. A blank ``inference_text`` keeps nothing (ES sends no input).
    """
    rescorer = rescorer or ChunkRescorer()
    offsets = chunk_offsets(text, rescorer.effective_chunking_settings)
    pieces = [text[s:e] for s, e in offsets]
    scored = score_chunks(pieces, inference_text, rescorer.effective_size, backfill=True)
    return [Chunk(c.text, *offsets[c.index], index=c.index, score=c.score) for c in scored]


def document_score(chunk_raw_scores: Sequence[float]) -> float:
    """A document's raw reranker score: the max over its chunks' raw scores.

    ES gives a document none of whose chunks came back a raw score of 0.0 (which then
    normalizes to 1.0); an empty sequence does the same here.

    >>> document_score([])
    0.0
    """
    return max(chunk_raw_scores) if len(chunk_raw_scores) else 0.0


@dataclass(frozen=True)
class RerankInputs:
    """One rerank call's inputs for a window of documents: ``texts`` in order, ``owners[i]``
    the document position ``texts[i]`` came from, and ``chunks[d]`` the chunks of
    document ``d`` (``None`` for a document without the field: ES drops it)."""

    texts: list[str]
    owners: list[int]
    chunks: list[list[Chunk] | None]


def rerank_inputs(
    field_values: Sequence[str | None], inference_text: str, rescorer: ChunkRescorer | None = None
) -> RerankInputs:
    """Flatten every document's best chunks into the single input list ES sends.

    >>> r = rerank_inputs(["Sun and moon.", None, "Rain."], "moon", ChunkRescorer(size=3))
    >>> r.texts, r.owners
    (['Sun and moon.', 'Rain.'], [0, 2])
    """
    texts: list[str] = []
    owners: list[int] = []
    chunks: list[list[Chunk] | None] = []
    for doc, value in enumerate(field_values):
        if value is None:
            chunks.append(None)
            continue
        kept = best_chunks(value, inference_text, rescorer)
        chunks.append(kept)
        for chunk in kept:
            texts.append(chunk.text)
            owners.append(doc)
    return RerankInputs(texts, owners, chunks)


def document_scores(owners: Sequence[int], raw_scores: Sequence[float], n_docs: int) -> list[float]:
    """``extractScoresFromRankedChunks``: per document, the max raw score of its inputs
    (0.0 for a document with none). ``raw_scores[i]`` is the score of input ``i``.

    >>> document_scores([0, 0, 1, 1, 2, 2], [1.0, 2.5, 1.5, 3.0, 2.0, 1.5], 3)
    [2.5, 3.0, 2.0]
    """
    if len(raw_scores) != len(owners):
        raise ValueError(
            f"Reranker input document count and returned score count mismatch: "
            f"[{len(owners)}] vs [{len(raw_scores)}]"
        )
    per_doc: list[list[float]] = [[] for _ in range(n_docs)]
    for owner, score in zip(owners, raw_scores, strict=True):
        per_doc[owner].append(score)
    return [document_score(scores) for scores in per_doc]
