"""HTTP rerankers: a rerank server users already run (Text Embeddings Inference, Cohere's API,
Infinity, vLLM) or this project's shim, in one of the formats of
:mod:`es_rerank.rerankers.formats`, with one retry, timeout and authentication policy.

>>> HttpReranker("http://tei:8080", format="tei")
HttpReranker('http://tei:8080/rerank', format='tei')
>>> HttpReranker("http://tei:8080", format="tei").rerank("q", ["a"])  # doctest: +SKIP
[-2.21]
"""

from __future__ import annotations

import math
from collections.abc import Collection, Sequence
from typing import Any, Literal, get_args

import httpx

from es_rerank.errors import ConfigurationError, RerankError
from es_rerank.rerankers.base import scores_in_input_order
from es_rerank.rerankers.formats import check_format, rerank_endpoint
from es_rerank.rerankers.retry import DEFAULT_RETRY_ON_STATUS, RequestFailed, RetryPolicy
from es_rerank.spelling import Spelling, python_spelling
from es_rerank.wire import WireError

__all__ = ["SCORE_SCALES", "HttpReranker", "HttpRerankerBase", "ScoreScale", "logit"]

ScoreScale = Literal["raw", "sigmoid"]
SCORE_SCALES: tuple[str, ...] = get_args(ScoreScale)

# The largest probability below 1 a double holds: logit(1 - 2**-53) is about 36.7.
_ALMOST_ONE = 1.0 - 2.0**-53


def logit(p: float) -> float:
    """The raw score a sigmoid probability came from: ``ln(p / (1 - p))``. Probabilities that
    rounded to exactly 0 or 1 give the largest finite logit a double can tell apart.

    >>> round(logit(0.5), 6), round(logit(0.8807970779778823), 6)
    (0.0, 2.0)
    """
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{p!r} is not a probability in [0, 1]")
    p = min(max(p, math.ulp(0.0)), _ALMOST_ONE)
    return math.log(p) - math.log1p(-p)


def _error_text(response: httpx.Response) -> str:
    """The message of an error answer in any of the formats' shapes: TEI ``{"error"}``,
    Cohere ``{"message"}``, Infinity/OpenAI ``{"error": {"message"}}``, Elasticsearch
    ``{"error": {"reason"}}``."""
    try:
        body = response.json()
    except ValueError:
        return " ".join(response.text.split())[:300]
    if isinstance(body, dict):
        error = body.get("error", body.get("message", body.get("detail")))
        if isinstance(error, dict):
            error = error.get("reason") or error.get("message") or error
        if error is not None:
            return str(error)[:300]
    return str(body)[:300]


class HttpRerankerBase:
    """What the synchronous :class:`HttpReranker` and the asynchronous
    :class:`es_rerank.asyncio.AsyncHttpReranker` share: the checked settings, the request
    bodies, the retry policy, and the reading of answers and failures. Only the sending
    differs (an ``httpx.Client`` or an ``httpx.AsyncClient``)."""

    def __init__(
        self,
        url: str,
        *,
        format: str = "es",
        model: str | None = None,
        api_key: str | None = None,
        timeout: float = 30.0,
        retries: int = 3,
        backoff: float = 0.5,
        retry_on_timeout: bool = False,
        retry_on_status: Collection[int] = DEFAULT_RETRY_ON_STATUS,
        max_batch: int | None = None,
        score_scale: str = "raw",
        transport: Any = None,
        spelling: Spelling = python_spelling,
    ) -> None:
        self.wire = check_format(format)
        self.format = self.wire.name
        self.endpoint = rerank_endpoint(self.format, url)
        self.url = url.rstrip("/")
        if isinstance(timeout, bool) or not isinstance(timeout, int | float) or not timeout > 0:
            raise ConfigurationError(f"timeout must be > 0 seconds, got {timeout!r}")
        if max_batch is not None and (
            isinstance(max_batch, bool) or not isinstance(max_batch, int) or max_batch < 1
        ):
            raise ConfigurationError(f"max_batch must be a positive integer, got {max_batch!r}")
        if score_scale not in SCORE_SCALES:
            raise ConfigurationError(
                f"score_scale must be one of {', '.join(SCORE_SCALES)}, got {score_scale!r}"
            )
        if model is not None and (not isinstance(model, str) or not model.strip()):
            raise ConfigurationError(f"model must be a non-empty string, got {model!r}")
        self.retry = RetryPolicy(
            retries=retries,
            backoff=backoff,
            retry_on_timeout=retry_on_timeout,
            retry_on_status=retry_on_status,
        )
        self.model = model
        self.timeout = float(timeout)
        self.max_batch = max_batch if max_batch is not None else self.wire.max_batch
        self.score_scale = score_scale
        self._spell = spelling
        self.headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._open(transport)

    def _open(self, transport: Any) -> None:
        """Create the HTTP client (with ``transport``, an httpx transport, when given)."""
        raise NotImplementedError

    @property
    def _name(self) -> str:
        return f"{self.format} reranker at {self.endpoint}"

    def _batches(self, texts: Sequence[str]) -> list[Sequence[str]]:
        """``texts`` cut into requests of at most ``max_batch`` texts (none when empty)."""
        step = self.max_batch or len(texts) or 1
        return [texts[start : start + step] for start in range(0, len(texts), step)]

    def _payload(self, query: str, texts: Sequence[str]) -> dict[str, Any]:
        try:
            return self.wire.payload(query, texts, self.model)
        except WireError as exc:
            raise RerankError(f"cannot send to the {self._name}: {exc.message}") from None

    def _answer(self, response: httpx.Response, attempts: int, n: int) -> list[float]:
        """The ``n`` scores in ``response``, else a :class:`RerankError` saying why."""
        if response.status_code != 200:
            raise RerankError(
                f"{self._name} answered HTTP {response.status_code} after {attempts} "
                f"attempt(s): {_error_text(response)}"
            )
        return self._scores(response, n)

    def _failure(self, exc: RequestFailed) -> RerankError:
        message = f"{self._name} failed after {exc.attempts} attempt(s): {exc}"
        if exc.timed_out_reading and not self.retry.retry_on_timeout:
            message += (
                f" (no answer within {self.timeout:g} s; a read timeout is not retried, since "
                "the server may still be computing: raise the timeout, send fewer texts, or "
                "pass retry_on_timeout=True)"
            )
        return RerankError(message)

    def _scores(self, response: httpx.Response, n: int) -> list[float]:
        try:
            body: Any = response.json()
        except ValueError:
            raise RerankError(f"{self._name} answered non-JSON: {response.text[:200]!r}") from None
        try:
            ranking = self.wire.ranking(body)
        except WireError as exc:
            raise RerankError(
                f"{self._name} answered a body that is not a rerank answer in the "
                f"{self.wire.title} format: {exc.message}"
            ) from None
        scores = scores_in_input_order(ranking, n)
        if self.score_scale == "sigmoid":
            try:
                scores = [logit(p) for p in scores]
            except ValueError as exc:
                raise RerankError(
                    f"{self._name}: {self._spell('score_scale', 'sigmoid')} but the server "
                    f"returned a score outside [0, 1] ({exc}); its scores are raw: use "
                    f"{self._spell('score_scale', 'raw')}"
                ) from None
        return scores  # checked by scores_in_input_order; a logit is finite

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.endpoint!r}, format={self.format!r})"


class HttpReranker(HttpRerankerBase):
    """Scores with a rerank server over HTTP; raw scores in input order, one per text.

    ``format`` is ``"es"`` (the shim's Elasticsearch-inference route), ``"tei"`` (Text
    Embeddings Inference, asked for raw logits) or ``"cohere"`` (Cohere v1/v2, Infinity).
    ``url`` is the server's base URL, which gets the format's route (``/inference/rerank``,
    ``/rerank``, ``/v2/rerank``), or a URL ending in a route of that format (e.g. Cohere's
    ``https://api.cohere.com/v1/rerank`` or Infinity's ``http://host:7997/rerank``); another
    path is refused, never extended. ``model`` is sent in the ``cohere`` format (Cohere's
    API needs one). ``api_key`` goes as ``Authorization: Bearer KEY`` in every format.

    Scores: the ``es`` and ``tei`` formats ask the server for raw logits, as
    Elasticsearch's own ``elasticsearch`` service returns them. Cohere's API (and the shim's
    Cohere routes, by default) returns relevance scores in [0, 1] and Infinity returns
    sigmoid probabilities: they are used as
    returned (as Elasticsearch's ``cohere`` service does), unless ``score_scale="sigmoid"``
    says they are probabilities, which are then turned back into logits (``ln(p/(1-p))``),
    so ``min_score`` and Elasticsearch's normalization see the scale they see with a
    logit-returning service. Order never changes; only what a ``min_score`` means does.

    Failures: ``timeout`` seconds for each of connecting, sending and waiting for the answer.
    Up to ``retries`` retries of refused connections, connections the server dropped, and
    answers with a status in ``retry_on_status`` (429, 502, 503, 504), waiting
    ``Retry-After`` or ``backoff * 2**n`` seconds. A read timeout is retried only with
    ``retry_on_timeout=True``: the server may still be computing the first request.
    ``max_batch`` cuts a larger input into several requests (default: 32 for ``tei``,
    TEI's own limit per request; no limit otherwise); the scores come back as one list.
    Anything else (an error status, an answer that does not parse, a wrong number of
    scores) is a :class:`~es_rerank.errors.RerankError`, never a partial result.
    """

    def _open(self, transport: httpx.BaseTransport | None) -> None:
        self._client = httpx.Client(timeout=self.timeout, headers=self.headers, transport=transport)

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpReranker:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def rerank(self, query: str, texts: Sequence[str]) -> list[float]:
        scores: list[float] = []
        for batch in self._batches(texts):
            scores.extend(self._post(query, batch))
        return scores

    def _post(self, query: str, texts: Sequence[str]) -> list[float]:
        payload = self._payload(query, texts)
        try:
            response, attempts = self.retry.send(
                lambda: self._client.post(self.endpoint, json=payload)
            )
        except RequestFailed as exc:
            raise self._failure(exc) from exc.error
        return self._answer(response, attempts, len(texts))
