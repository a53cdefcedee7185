"""Why every hit is where it is: the path of each hit of a ``text_similarity_reranker``'s
window through Elasticsearch's rules, as data (``search(..., explain=True)``).

For each hit of the child's window, returned or not: its child rank and score, the text
sent (or ``field missing: dropped``), the raw score, the normalized score, the
``min_score`` verdict, the final rank, whether it was returned, and with ``chunk_rescorer``
the chunks sent with their scores (the best one decided the hit's score). External
execution knows all of it; natively, Elasticsearch's ``explain`` reports returned hits
only, and only their normalized score and child score (``complete=False``).

These are pure functions over what an executor already holds (the window, the candidates,
the reranker call and its scores), so any executor can keep the same books.

>>> from es_rerank.hits import Hit
>>> from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
>>> from es_rerank.rules import Ranked, apply_rerank, rerank_call, rerank_candidates
>>> node = TextSimilarityReranker(retriever=StandardRetriever(), field="text",
...                               inference_text="q", min_score=0.0)
>>> window = [Ranked(Hit("a", 3.0, {"text": "-1"})), Ranked(Hit("b", 2.0, {})),
...           Ranked(Hit("c", 1.0, {"text": "2"}))]
>>> cands = rerank_candidates(window, "text")
>>> call = rerank_call(cands, node.inference_text, None)
>>> scores = [float(t) for t in call.texts]
>>> ranked = apply_rerank(cands, scores, min_score=0.0, limit=3)
>>> ex = explain_rerank(node, window=window, candidates=cands, call=call,
...                     input_scores=scores, ranked=ranked, passed_on=len(ranked))
>>> [(h.id, h.verdict, h.final_rank) for h in ex.hits]
[('a', 'below min_score: dropped', None), ('b', 'field missing: dropped', None), ('c', 'kept', 1)]
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal

from es_rerank.chunking.settings import ChunkRescorer
from es_rerank.retrievers import TextSimilarityReranker
from es_rerank.rules import Candidate, Ranked, RerankCall, candidate_scores, field_text
from es_rerank.scores import denormalize, normalize

__all__ = [
    "BELOW_MIN_SCORE",
    "FIELD_MISSING",
    "KEPT",
    "RERANK_FAILED",
    "ChunkScore",
    "HitExplanation",
    "RerankExplanation",
    "Verdict",
    "explain_native",
    "explain_rerank",
    "explain_rerank_failure",
    "mark_returned",
]

Verdict = Literal[
    "kept", "field missing: dropped", "below min_score: dropped", "rerank failed: child order kept"
]
#: Reranked and at or above ``min_score``: normalized, ranked, returned if on the page.
KEPT: Final = "kept"
#: The hit has no value for ``field``: never sent, never returned.
FIELD_MISSING: Final = "field missing: dropped"
#: The RAW score is below ``min_score``: never returned.
BELOW_MIN_SCORE: Final = "below min_score: dropped"
#: ``allow_rerank_failures``: the reranker failed; the child's order and scores are kept.
RERANK_FAILED: Final = "rerank failed: child order kept"


@dataclass(frozen=True)
class ChunkScore:
    """A chunk sent for a hit (``chunk_rescorer``): its text, ``text[start:end]`` offsets in
    the field value, its position among the hit's chunks, its BM25 score against
    ``inference_text`` (what chose it; 0.0 when no chunk matched and it was sent as one of
    the first), and the reranker's raw score for it (``None`` when not known)."""

    text: str
    start: int
    end: int
    index: int
    bm25: float
    raw_score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class HitExplanation:
    """One hit's path through a reranker's rules.

    ``child_rank`` is the 1-based position in the child's window; ``text`` the field text
    read (sent whole, or cut into the ``chunks`` that were sent); ``raw_score`` the
    reranker's score (with chunks, the max over them), which ``min_score`` is compared
    with; ``normalized_score`` is ``normalize(raw_score)``, the score a kept hit is returned
    with (shown for dropped hits too, as what they would have scored); ``final_rank`` the
    1-based rank among the kept hits; ``returned`` whether the hit is on the returned page
    (for a reranker inside another retriever: whether it was passed on to it).
    """

    id: str
    child_rank: int | None
    child_score: float | None
    text: str | None
    raw_score: float | None
    normalized_score: float | None
    min_score: float | None
    verdict: Verdict
    final_rank: int | None
    returned: bool
    chunks: tuple[ChunkScore, ...] = ()

    @property
    def best_chunk(self) -> ChunkScore | None:
        """The chunk whose raw score became the hit's (the first one on ties)."""
        scored = [c for c in self.chunks if c.raw_score is not None]
        if not scored:
            return None
        return max(scored, key=lambda c: c.raw_score if c.raw_score is not None else -math.inf)

    def to_dict(self) -> dict[str, Any]:
        body = {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}
        body["chunks"] = [c.to_dict() for c in self.chunks]
        best = self.best_chunk
        body["best_chunk"] = None if best is None else best.index
        return body


@dataclass(frozen=True)
class RerankExplanation:
    """How one ``text_similarity_reranker`` node ranked its window.

    ``path`` names the node in the retriever tree (``text_similarity_reranker`` at the top,
    ``rrf.retrievers[0].text_similarity_reranker`` inside an RRF, ...); ``hits`` lists every
    hit of the child's window in child order (``complete``), or natively only the returned
    hits, in rank order (``complete=False``). ``min_score`` is in raw units, as compared.
    """

    path: str
    inference_id: str
    field: str
    inference_text: str
    rank_window_size: int
    min_score: float | None
    chunk_rescorer: ChunkRescorer | None
    hits: tuple[HitExplanation, ...]
    complete: bool = True
    rerank_error: str | None = None

    def hit(self, hit_id: str) -> HitExplanation | None:
        """The explanation of the hit with id ``hit_id`` (the first, if the window repeats it)."""
        return next((h for h in self.hits if h.id == hit_id), None)

    def ranked(self) -> list[HitExplanation]:
        """Kept hits by final rank, then the dropped ones in child order."""
        kept = sorted((h for h in self.hits if h.final_rank is not None), key=_final_rank)
        return kept + [h for h in self.hits if h.final_rank is None]

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "inference_id": self.inference_id,
            "field": self.field,
            "inference_text": self.inference_text,
            "rank_window_size": self.rank_window_size,
            "min_score": self.min_score,
            "chunk_rescorer": None
            if self.chunk_rescorer is None
            else self.chunk_rescorer.to_dict(),
            "complete": self.complete,
            "rerank_error": self.rerank_error,
            "hits": [h.to_dict() for h in self.hits],
        }


def _final_rank(h: HitExplanation) -> int:
    return h.final_rank if h.final_rank is not None else 0


def _header(
    node: TextSimilarityReranker, path: str, hits: Sequence[HitExplanation], **extra: Any
) -> RerankExplanation:
    return RerankExplanation(
        path=path,
        inference_id=node.effective_inference_id,
        field=", ".join(node.fields) if node.fields is not None else node.field or "",
        inference_text=node.inference_text,
        rank_window_size=node.effective_rank_window_size,
        min_score=node.min_score,
        chunk_rescorer=node.effective_chunk_rescorer,
        hits=tuple(hits),
        **extra,
    )


def _chunk_scores(call: RerankCall, input_scores: Sequence[float]) -> list[tuple[ChunkScore, ...]]:
    if call.chunks is None:
        return [() for _ in call.texts]
    per_candidate: list[list[float]] = [[] for _ in call.chunks]
    for owner, score in zip(call.owners, input_scores, strict=True):
        per_candidate[owner].append(score)
    return [
        tuple(
            ChunkScore(c.text, c.start, c.end, c.index, c.score, raw)
            for c, raw in zip(chunks, scores, strict=True)
        )
        for chunks, scores in zip(call.chunks, per_candidate, strict=True)
    ]


def explain_rerank(
    node: TextSimilarityReranker,
    *,
    window: Sequence[Ranked],
    candidates: Sequence[Candidate],
    call: RerankCall,
    input_scores: Sequence[float],
    ranked: Sequence[Ranked],
    passed_on: int,
    path: str = "text_similarity_reranker",
) -> RerankExplanation:
    """The explanation of a reranker that scored its window: ``window`` is the child's
    window, ``candidates`` its hits that have the field, ``call``/``input_scores`` the
    reranker call and its raw scores, ``ranked`` every kept hit in final order (as
    :func:`~es_rerank.rules.apply_rerank` gives them, unlimited) and ``passed_on`` how
    many of those the node returns."""
    raw = candidate_scores(call, input_scores)
    chunks = _chunk_scores(call, input_scores)
    by_position = {c.position: (i, c) for i, c in enumerate(candidates)}
    final = {r.first_stage_rank: rank for rank, r in enumerate(ranked, start=1)}
    hits: list[HitExplanation] = []
    for position, item in enumerate(window, start=1):
        found = by_position.get(position)
        if found is None:
            hits.append(_missing(item, position, node.min_score))
            continue
        index, candidate = found
        rank = final.get(position)
        hits.append(
            HitExplanation(
                id=item.hit.id,
                child_rank=position,
                child_score=item.hit.score,
                text=candidate.text,
                raw_score=raw[index],
                normalized_score=normalize(raw[index]),
                min_score=node.min_score,
                verdict=KEPT if rank is not None else BELOW_MIN_SCORE,
                final_rank=rank,
                returned=rank is not None and rank <= passed_on,
                chunks=chunks[index],
            )
        )
    return _header(node, path, hits)


def _missing(item: Ranked, position: int, min_score: float | None) -> HitExplanation:
    return HitExplanation(
        id=item.hit.id,
        child_rank=position,
        child_score=item.hit.score,
        text=None,
        raw_score=None,
        normalized_score=None,
        min_score=min_score,
        verdict=FIELD_MISSING,
        final_rank=None,
        returned=False,
    )


def explain_rerank_failure(
    node: TextSimilarityReranker,
    *,
    window: Sequence[Ranked],
    candidates: Sequence[Candidate],
    error: BaseException | str,
    passed_on: int,
    path: str = "text_similarity_reranker",
) -> RerankExplanation:
    """The explanation of a reranker whose call failed under ``allow_rerank_failures``:
    every window hit keeps its child rank and score."""
    texts = {c.position: c.text for c in candidates}
    hits = [
        HitExplanation(
            id=item.hit.id,
            child_rank=position,
            child_score=item.hit.score,
            text=texts.get(position),
            raw_score=None,
            normalized_score=None,
            min_score=node.min_score,
            verdict=RERANK_FAILED,
            final_rank=position,
            returned=position <= passed_on,
        )
        for position, item in enumerate(window, start=1)
    ]
    message = error if isinstance(error, str) else f"{type(error).__name__}: {error}"
    return _header(node, path, hits, rerank_error=message)


def mark_returned(explanation: RerankExplanation, ranks: range) -> RerankExplanation:
    """``explanation`` with ``returned`` set for the hits whose final rank is in ``ranks``
    (the page ``from + 1 .. from + size``)."""
    hits = [
        dataclasses.replace(h, returned=h.final_rank is not None and h.final_rank in ranks)
        for h in explanation.hits
    ]
    return dataclasses.replace(explanation, hits=tuple(hits))


# ------------------------------------------------------------------ native (ES's explain)

_TSR_PREFIX = "text_similarity_reranker match using inference endpoint"
_RANK_DOC = re.compile(r"with an original score of \[([^\]]+)\] is at rank \[(\d+)\]")


def _find_reranker_node(node: Any) -> Mapping[str, Any] | None:
    if not isinstance(node, Mapping):
        return None
    if str(node.get("description", "")).startswith(_TSR_PREFIX):
        return node
    for child in node.get("details") or []:
        found = _find_reranker_node(child)
        if found is not None:
            return found
    return None


def _child_of(node: Mapping[str, Any]) -> tuple[int | None, float | None]:
    details = node.get("details") or []
    if not details or not isinstance(details[0], Mapping):
        return None, None
    first = details[0]
    match = _RANK_DOC.search(str(first.get("description", "")))
    if match:
        return int(match.group(2)), float(match.group(1))
    value = first.get("value")
    return None, float(value) if isinstance(value, int | float) else None


def explain_native(
    node: TextSimilarityReranker, hits: Sequence[Mapping[str, Any]], *, from_: int
) -> RerankExplanation:
    """Map the ``_explanation`` Elasticsearch returns with ``explain: true`` for the hits of
    a native search onto a :class:`RerankExplanation` (``complete=False``).

    Elasticsearch reports, per returned hit, the normalized score and the child's
    explanation under ``text_similarity_reranker match using inference endpoint: [...]``;
    the raw score is its inverse (:func:`es_rerank.denormalize`, float32 precision), the
    text is read from the returned ``_source``. Dropped hits, chunk texts and chunk scores
    are not reported.
    """
    out: list[HitExplanation] = []
    for rank, hit in enumerate(hits, start=from_ + 1):
        explanation = _find_reranker_node(hit.get("_explanation"))
        score = hit.get("_score")
        if explanation is not None and isinstance(explanation.get("value"), int | float):
            score = explanation["value"]
        normalized = float(score) if isinstance(score, int | float) else None
        child_rank, child_score = (
            _child_of(explanation) if explanation is not None else (None, None)
        )
        source = hit.get("_source")
        out.append(
            HitExplanation(
                id=str(hit.get("_id")),
                child_rank=child_rank,
                child_score=child_score,
                text=field_text(source, node.field or "") if isinstance(source, Mapping) else None,
                raw_score=denormalize(normalized) if normalized and normalized > 0 else None,
                normalized_score=normalized,
                min_score=node.min_score,
                verdict=KEPT,
                final_rank=rank,
                returned=True,
            )
        )
    return _header(node, "text_similarity_reranker", out, complete=False)


# ------------------------------------------------------------------ as a table


def _num(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


def _snippet(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 3] + "..."


def _sent(hit: HitExplanation, width: int) -> str:
    if hit.verdict == FIELD_MISSING or hit.text is None:
        return FIELD_MISSING if hit.verdict == FIELD_MISSING else ""
    best = hit.best_chunk
    if best is not None:
        label = f"best of {len(hit.chunks)} chunk(s): #{best.index} "
        return label + _snippet(best.text, max(width - len(label), 10))
    return _snippet(hit.text, width)


def _min_score_verdict(hit: HitExplanation) -> str:
    if hit.min_score is None or hit.raw_score is None:
        return "-"
    return "pass" if hit.raw_score >= hit.min_score else "fail"


def explanation_table(explanation: RerankExplanation, *, text_width: int = 60) -> str:
    """``explanation`` as a text table: a header naming the node's settings, then the kept
    hits by final rank and the dropped ones in child order.

    >>> from es_rerank.retrievers import StandardRetriever, TextSimilarityReranker
    >>> node = TextSimilarityReranker(retriever=StandardRetriever(), field="text",
    ...                               inference_text="q", inference_id="ce")
    >>> hit = HitExplanation("d1", 1, 2.5, "moon", -1.0, 0.3679, None, KEPT, 1, True)
    >>> print(explanation_table(_header(node, "text_similarity_reranker", [hit])))
    text_similarity_reranker: endpoint [ce], field [text], window 10, min_score none
    rank  child  id  child score      raw  normalized  min_score  returned  text sent
       1      1  d1       2.5000  -1.0000      0.3679          -  yes       moon
    """
    e = explanation
    header = (
        f"{e.path}: endpoint [{e.inference_id}], field [{e.field}], window "
        f"{e.rank_window_size}, min_score "
        + ("none" if e.min_score is None else f"{e.min_score:g} (raw)")
    )
    if e.chunk_rescorer is not None:
        settings = e.chunk_rescorer.effective_chunking_settings.to_dict()
        header += f", chunk_rescorer size {e.chunk_rescorer.effective_size} " + ", ".join(
            f"{k} {v}" for k, v in settings.items()
        )
    lines = [header]
    if e.rerank_error is not None:
        lines.append(
            f"the reranker failed ({e.rerank_error}); allow_rerank_failures kept the child order"
        )
    if not e.complete:
        lines.append(
            "native: Elasticsearch's explain reports the returned hits only; "
            "raw = denormalize(score)"
        )
    columns = ("rank", "child", "id", "child score", "raw", "normalized", "min_score", "returned")
    rows = [
        (
            "-" if h.final_rank is None else str(h.final_rank),
            "-" if h.child_rank is None else str(h.child_rank),
            h.id,
            _num(h.child_score),
            _num(h.raw_score),
            _num(h.normalized_score),
            _min_score_verdict(h),
            "yes" if h.returned else "no",
            _sent(h, text_width),
        )
        for h in e.ranked()
    ]
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    left = {2, 7}  # id and returned read better left-aligned

    def line(cells: Sequence[str]) -> str:
        parts = [
            c.ljust(w) if i in left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=False))
        ]
        return "  ".join([*parts, *cells[len(widths) :]]).rstrip()

    lines.append(line([*columns, "text sent"]))
    lines.extend(line(r) for r in rows)
    return "\n".join(lines)
