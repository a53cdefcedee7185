"""Elasticsearch's inference API rerank format (``POST _inference/rerank/<id>``): what the
``custom`` service template and :class:`~es_rerank.rerankers.ShimReranker` send, and what
ES returns (``{"rerank": [{index, relevance_score, text?}]}``, best first).

>>> req = InferenceRerankRequest.model_validate({"query": "q", "input": "one text"})
>>> req.texts_to_rank
['one text']
>>> req.answer([(0, -1.5)]).model_dump(exclude_none=True)
{'rerank': [{'index': 0, 'relevance_score': -1.5}]}
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BeforeValidator, Field, NonNegativeInt, StrictBool
from pydantic.json_schema import SkipJsonSchema

from es_rerank.wire.base import RerankRequest, WireModel, absent_by_default
from es_rerank.wire.fields import Ranking, Text, TextList

__all__ = ["InferenceRank", "InferenceRerankRequest", "InferenceRerankResponse"]


def _one_or_many(value: Any) -> Any:
    # ES's inference API accepts a single string as the input.
    return [value] if isinstance(value, str) else value


class InferenceRerankRequest(RerankRequest):
    """The inference API's rerank body; ``input`` is one text or a list of texts."""

    input: Annotated[
        TextList, BeforeValidator(_one_or_many, json_schema_input_type=Text | TextList)
    ]
    return_documents: StrictBool | None = None

    @property
    def texts_to_rank(self) -> list[str]:
        return self.input

    def answer(
        self, ranking: Ranking, *, api_version: str | None = None
    ) -> InferenceRerankResponse:
        texts = self.input if self.return_documents else None
        return InferenceRerankResponse(
            rerank=[
                InferenceRank(
                    index=i, relevance_score=score, text=None if texts is None else texts[i]
                )
                for i, score in ranking
            ]
        )


class InferenceRank(WireModel):
    index: NonNegativeInt
    relevance_score: float
    text: str | SkipJsonSchema[None] = Field(default=None, json_schema_extra=absent_by_default)


class InferenceRerankResponse(WireModel):
    """``rerank`` sorted by relevance_score, best first."""

    rerank: list[InferenceRank]
