"""Text Embeddings Inference ``POST /rerank``: what Elasticsearch's ``hugging_face`` service
sends and parses (a top-level array of ``{index, score, text?}``, best first).

>>> req = TeiRerankRequest.model_validate(
...     {"query": "q", "texts": ["a", "b"], "return_text": True, "raw_scores": False})
>>> req.mode("raw"), req.direction
('sigmoid', 'right')
>>> req.answer([(1, 0.75), (0, 0.25)]).model_dump(exclude_none=True)
[{'index': 1, 'score': 0.75, 'text': 'b'}, {'index': 0, 'score': 0.25, 'text': 'a'}]
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import AliasChoices, Field, NonNegativeInt, RootModel, StrictBool, model_validator
from pydantic.json_schema import SkipJsonSchema

from es_rerank.wire.base import Direction, RerankRequest, WireModel, absent_by_default
from es_rerank.wire.fields import Ranking, ScoreMode, TextList

__all__ = ["TeiRank", "TeiRerankRequest", "TeiRerankResponse"]

_ALIASED = ("texts", "documents", "return_text", "return_documents")


class TeiRerankRequest(RerankRequest):
    """TEI's rerank body. ``documents`` and ``return_documents`` are accepted as aliases of
    ``texts`` and ``return_text``; ``score_mode``, when given, wins over ``raw_scores``."""

    texts: TextList = Field(validation_alias=AliasChoices("texts", "documents"))
    raw_scores: StrictBool | None = Field(
        default=None,
        description="true: raw logits; false or absent: sigmoid, as TEI (absent: the server's "
        "--score-mode when set)",
    )
    return_text: StrictBool | None = Field(
        default=None, validation_alias=AliasChoices("return_text", "return_documents")
    )
    truncation_direction: Literal["Right", "Left", "right", "left"] | None = Field(
        default=None, description="which end of an over-long pair is cut (default Right)"
    )

    @model_validator(mode="before")
    @classmethod
    def _null_is_absent(cls, data: Any) -> Any:
        # {"texts": null, "documents": [...]}: the alias that carries a value wins.
        if isinstance(data, dict) and any(data.get(k, 0) is None for k in _ALIASED):
            return {k: v for k, v in data.items() if not (k in _ALIASED and v is None)}
        return data

    @property
    def texts_to_rank(self) -> list[str]:
        return self.texts

    @property
    def direction(self) -> Direction:
        return "left" if (self.truncation_direction or "").lower() == "left" else "right"

    def mode(self, default: ScoreMode) -> ScoreMode:
        if self.score_mode is not None:
            return self.score_mode
        if self.raw_scores is not None:
            return "raw" if self.raw_scores else "sigmoid"
        return default

    def answer(self, ranking: Ranking, *, api_version: str | None = None) -> TeiRerankResponse:
        texts = self.texts if self.return_text else None
        return TeiRerankResponse(
            [
                TeiRank(index=i, score=score, text=None if texts is None else texts[i])
                for i, score in ranking
            ]
        )


class TeiRank(WireModel):
    index: NonNegativeInt
    score: float
    text: str | SkipJsonSchema[None] = Field(default=None, json_schema_extra=absent_by_default)


class TeiRerankResponse(RootModel[list[TeiRank]]):
    """Sorted by score, best first."""
