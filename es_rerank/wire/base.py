"""The base every wire model derives from, the fields all rerank requests share, and the
error body (Text Embeddings Inference's ``{"error", "error_type"}``).

>>> ErrorBody(error="`top_n`: input should be greater than or equal to 1",
...           error_type="Validation").model_dump()
{'error': '`top_n`: input should be greater than or equal to 1', 'error_type': 'Validation'}
"""

from __future__ import annotations

from abc import abstractmethod
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool

from es_rerank.wire.fields import Query, Ranking, ScoreMode, TopN

__all__ = ["Direction", "ErrorBody", "RerankRequest", "WireModel", "absent_by_default"]

Direction = Literal["right", "left"]


def absent_by_default(schema: dict[str, Any]) -> None:
    """JSON-schema hook for an optional response field that is left out rather than null."""
    schema.pop("default", None)


class WireModel(BaseModel):
    """Unknown fields are ignored (as TEI, Cohere and Elasticsearch do), values are never
    coerced between JSON types, and parsed messages are immutable."""

    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class RerankRequest(WireModel):
    """Fields every rerank request accepts; each format adds its texts and options."""

    query: Query
    top_n: TopN | None = None
    truncate: StrictBool | None = Field(
        default=None,
        description="true (default): cut pairs to the model's maximum input length; "
        "false: refuse an over-long pair with 422",
    )
    score_mode: ScoreMode | None = Field(
        default=None,
        description="raw logit, sigmoid, or Elasticsearch-normalized max(s,0)+min(exp(s),1); "
        "default: the route's own (its description and GET /info's score_modes say which), "
        "or the server's --score-mode when set",
    )

    @property
    @abstractmethod
    def texts_to_rank(self) -> list[str]:
        """The texts to score, whatever the format calls them."""

    @property
    def direction(self) -> Direction:
        return "right"

    @property
    def instruction(self) -> str | None:
        """The instruction an LLM reranker reads, where the format carries one."""
        return None

    def mode(self, default: ScoreMode) -> ScoreMode:
        """The score mode asked for, else ``default``."""
        return self.score_mode or default

    @abstractmethod
    def answer(self, ranking: Ranking, *, api_version: str | None = None) -> BaseModel:
        """The response for ``ranking`` (best first, already cut to ``top_n``);
        ``api_version`` is the version the answer states, in a format that states one."""


class ErrorBody(WireModel):
    """Every error reply: a message naming the problem and its type."""

    error: str
    error_type: str = Field(
        description="Validation, Empty, Unauthorized, Overloaded, Backend, Unhealthy, or the "
        "HTTP reason (NotFound, MethodNotAllowed, PayloadTooLarge, UnsupportedMediaType)"
    )
