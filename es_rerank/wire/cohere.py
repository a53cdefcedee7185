"""Cohere ``POST /v1/rerank`` and ``/v2/rerank``: what Elasticsearch's ``cohere`` service
sends (with its ``url`` pointed at the shim) and parses.

>>> req = CohereRerankRequest.model_validate(
...     {"model": "m", "query": "q", "documents": ["a", {"text": "b"}], "return_documents": True})
>>> req.texts_to_rank
['a', 'b']
>>> out = req.answer([(1, 2.0)], api_version="2").model_dump(exclude_none=True)
>>> out["results"], out["meta"]["api_version"]
([{'index': 1, 'relevance_score': 2.0, 'document': {'text': 'b'}}], {'version': '2'})
"""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, NonNegativeInt, StrictBool
from pydantic.json_schema import SkipJsonSchema
from pydantic_core import PydanticCustomError

from es_rerank.wire.base import RerankRequest, WireModel, absent_by_default
from es_rerank.wire.fields import CountedList, Query, Ranking, Text

__all__ = [
    "CohereApiVersion",
    "CohereBilledUnits",
    "CohereDocument",
    "CohereMeta",
    "CohereRerankRequest",
    "CohereRerankResponse",
    "CohereResult",
]


class CohereDocument(WireModel):
    """A document as an object (other keys are ignored)."""

    text: Text


def _document_text(value: Any) -> Any:
    # {"text": "..."} and "..." are the same document; the text is then validated as a Text.
    if isinstance(value, dict):
        if "text" not in value:
            raise PydanticCustomError(
                "document", "must be a string or an object with a string `text`"
            )
        return value["text"]
    return value


DocumentText = Annotated[
    Text, BeforeValidator(_document_text, json_schema_input_type=Text | CohereDocument)
]


class CohereRerankRequest(RerankRequest):
    """Cohere's rerank body; ``model`` is accepted and ignored."""

    documents: CountedList[DocumentText]
    return_documents: StrictBool | None = None
    model: Text | None = Field(default=None, description="accepted and ignored")
    instruct: Query | None = Field(
        default=None,
        description="vLLM/sglang: the instruction an LLM reranker reads (default: the "
        "server's --instruction, else the model card's); 422 for a model without a prompt",
    )

    @property
    def texts_to_rank(self) -> list[str]:
        return self.documents

    @property
    def instruction(self) -> str | None:
        return self.instruct

    def answer(self, ranking: Ranking, *, api_version: str | None = None) -> CohereRerankResponse:
        docs = self.documents if self.return_documents else None
        return CohereRerankResponse(
            id=str(uuid.uuid4()),
            results=[
                CohereResult(
                    index=i,
                    relevance_score=score,
                    document=None if docs is None else CohereDocument(text=docs[i]),
                )
                for i, score in ranking
            ],
            meta=CohereMeta(
                api_version=CohereApiVersion(version=api_version or "2"),
                billed_units=CohereBilledUnits(search_units=1),
            ),
        )


class CohereResult(WireModel):
    index: NonNegativeInt
    relevance_score: float
    document: CohereDocument | SkipJsonSchema[None] = Field(
        default=None, json_schema_extra=absent_by_default
    )


class CohereApiVersion(WireModel):
    version: str


class CohereBilledUnits(WireModel):
    search_units: int


class CohereMeta(WireModel):
    api_version: CohereApiVersion
    billed_units: CohereBilledUnits


class CohereRerankResponse(WireModel):
    """``results`` sorted by relevance_score, best first."""

    id: str
    results: list[CohereResult]
    meta: CohereMeta
