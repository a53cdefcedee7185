"""The Flask application: rerank routes in the TEI, Cohere and Elasticsearch inference
formats, score conversion, health, info, metrics and the OpenAPI document.

>>> from es_rerank.runtime import FunctionRuntime
>>> from inference_shim.runner import Engine
>>> engine = Engine(FunctionRuntime(lambda q, ts: [float(len(t)) for t in ts], name="len"))
>>> engine.start()
>>> client = create_app(Settings(scorer="len"), engine=engine).test_client()
>>> client.post("/rerank", json={"query": "q", "texts": ["ab", "abc"]}).get_json()
[{'index': 1, 'score': 3.0}, {'index': 0, 'score': 2.0}]
>>> engine.close()
"""

from __future__ import annotations

import hmac
import json
import logging
import time
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from flask import Flask, Response, g, request
from werkzeug.exceptions import HTTPException

from es_rerank.scores import denormalize, normalize
from inference_shim import __version__
from inference_shim.config import Settings
from inference_shim.errors import (
    OverloadedError,
    ShimError,
    UnauthorizedError,
    UnhealthyError,
    ValidationError,
)
from inference_shim.metrics import Metrics
from inference_shim.modes import ScoreMode, apply_mode, parse_mode
from inference_shim.parsing import (
    Body,
    get_bool,
    get_str,
    get_top_n,
    parse_body,
    parse_numbers,
    parse_texts,
)
from inference_shim.runner import Direction, Engine
from inference_shim.schemas import committed_openapi

__all__ = ["DRAINING", "OPEN_PATHS", "create_app"]

log = logging.getLogger("inference_shim")

# app.config key the server sets on SIGTERM.
DRAINING = "SHIM_DRAINING"

# Open without the API key unless --protect-info, as in TEI.
OPEN_PATHS = frozenset({"/health", "/ready", "/info", "/metrics", "/openapi.json"})

_HTTP_TYPES = {
    400: "BadRequest",
    404: "NotFound",
    405: "MethodNotAllowed",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
}


def _json_response(payload: Any, status: int = 200) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, allow_nan=False),
        status=status,
        mimetype="application/json",
    )


def _error_response(exc: ShimError) -> Response:
    resp = _json_response(exc.body(), exc.status)
    if isinstance(exc, OverloadedError):
        resp.headers["Retry-After"] = "1"
    if isinstance(exc, UnauthorizedError):
        resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


class _Ranker:
    """Scores one request through the engine and orders the result."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine

    def body(self) -> Body:
        return parse_body(request.get_data(cache=False))

    def mode(self, body: Body, fallback: ScoreMode | None = None) -> ScoreMode:
        value = body.get("score_mode")
        if value is not None:
            try:
                return parse_mode(value)
            except ValueError as exc:
                raise ValidationError(str(exc)) from None
        return fallback or self.settings.score_mode

    def rank(
        self,
        query: str,
        texts: list[str],
        *,
        mode: ScoreMode,
        top_n: int | None,
        truncate: bool,
        direction: Direction = "right",
    ) -> list[tuple[int, float]]:
        raw = self.engine.score(query, texts, truncate=truncate, truncation_direction=direction)
        scores = apply_mode(raw.tolist(), mode)
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        if top_n is not None:
            order = order[:top_n]
        return [(i, scores[i]) for i in order]

    def common(self, body: Body, names: tuple[str, ...], *, objects: bool = False) -> Any:
        s = self.settings
        query = get_str(body, "query", max_chars=s.max_text_chars)
        texts = parse_texts(
            body,
            names,
            max_items=s.max_client_batch_size,
            max_chars=s.max_text_chars,
            allow_objects=objects,
        )
        truncate = get_bool(body, "truncate", True)
        return query, texts, get_top_n(body), bool(truncate)


def create_app(settings: Settings, *, engine: Engine, metrics: Metrics | None = None) -> Flask:
    """Build the app around a started :class:`~inference_shim.runner.Engine`."""
    app = Flask("inference_shim")
    app.config["MAX_CONTENT_LENGTH"] = settings.max_payload_bytes
    metrics = metrics or engine.metrics or Metrics()
    ranker = _Ranker(settings, engine)
    api_key = settings.api_key.encode() if settings.api_key else None

    # -- cross-cutting: auth, timing, metrics, errors ------------------------------------
    @app.before_request
    def _authorize() -> None:
        g.started = time.perf_counter()
        if api_key is None or (request.path in OPEN_PATHS and not settings.protect_info):
            return
        header = request.headers.get("Authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            token.strip().encode("utf-8", "surrogateescape"), api_key
        ):
            raise UnauthorizedError("missing or wrong API key: send 'Authorization: Bearer <key>'")

    @app.after_request
    def _observe(resp: Response) -> Response:
        rule = request.url_rule.rule if request.url_rule is not None else "unmatched"
        metrics.requests.labels(route=rule, status=str(resp.status_code)).inc()
        started = g.get("started")
        if started is not None:
            metrics.latency.labels(route=rule).observe(time.perf_counter() - started)
        return resp

    @app.errorhandler(ShimError)
    def _shim_error(exc: ShimError) -> Response:
        return _error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        detail = exc.description or exc.name
        if code == 413:
            detail = f"the request body is larger than {settings.max_payload_bytes} bytes"
        resp = _json_response(
            {"error": detail, "error_type": _HTTP_TYPES.get(code, exc.name.replace(" ", ""))},
            code,
        )
        for key, value in exc.get_headers():
            if key.lower() == "allow":
                resp.headers[key] = value
        return resp

    @app.errorhandler(Exception)
    def _fault(exc: Exception) -> Response:
        # Only genuine server faults land here: every client mistake is a ShimError above.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _json_response(
            {"error": f"internal error: {type(exc).__name__}", "error_type": "Internal"}, 500
        )

    # -- rerank routes -------------------------------------------------------------------
    @app.post("/rerank")
    def tei_rerank() -> Response:
        body = ranker.body()
        query, texts, top_n, truncate = ranker.common(body, ("texts", "documents"))
        raw_scores = get_bool(body, "raw_scores", None)
        tei_mode: ScoreMode | None = (
            None if raw_scores is None else ("raw" if raw_scores else "sigmoid")
        )
        return_text = get_bool(body, "return_text", None)
        if return_text is None:
            return_text = get_bool(body, "return_documents", False)
        direction = body.get("truncation_direction", "Right")
        if not isinstance(direction, str) or direction.lower() not in ("right", "left"):
            raise ValidationError('`truncation_direction` must be "Right" or "Left"')
        ranked = ranker.rank(
            query,
            texts,
            mode=ranker.mode(body, tei_mode),
            top_n=top_n,
            truncate=truncate,
            direction="left" if direction.lower() == "left" else "right",
        )
        out: list[dict[str, Any]] = []
        for i, score in ranked:
            item: dict[str, Any] = {"index": i, "score": score}
            if return_text:
                item["text"] = texts[i]
            out.append(item)
        return _json_response(out)

    def cohere(version: str) -> Callable[[], Response]:
        def handler() -> Response:
            body = ranker.body()
            query, texts, top_n, truncate = ranker.common(body, ("documents",), objects=True)
            return_docs = get_bool(body, "return_documents", False)
            ranked = ranker.rank(
                query, texts, mode=ranker.mode(body), top_n=top_n, truncate=truncate
            )
            results: list[dict[str, Any]] = []
            for i, score in ranked:
                item: dict[str, Any] = {"index": i, "relevance_score": score}
                if return_docs:
                    item["document"] = {"text": texts[i]}
                results.append(item)
            return _json_response(
                {
                    "id": str(uuid.uuid4()),
                    "results": results,
                    "meta": {
                        "api_version": {"version": version},
                        "billed_units": {"search_units": 1},
                    },
                }
            )

        handler.__name__ = f"cohere_v{version}"
        return handler

    app.add_url_rule("/v1/rerank", view_func=cohere("1"), methods=["POST"])
    app.add_url_rule("/v2/rerank", view_func=cohere("2"), methods=["POST"])

    @app.post("/inference/rerank")
    def inference_rerank() -> Response:
        body = ranker.body()
        query, texts, top_n, truncate = ranker.common(body, ("input",))
        return_docs = get_bool(body, "return_documents", False)
        ranked = ranker.rank(query, texts, mode=ranker.mode(body), top_n=top_n, truncate=truncate)
        out: list[dict[str, Any]] = []
        for i, score in ranked:
            item: dict[str, Any] = {"index": i, "relevance_score": score}
            if return_docs:
                item["text"] = texts[i]
            out.append(item)
        return _json_response({"rerank": out})

    # -- score conversion ----------------------------------------------------------------
    def convert(fn: Callable[[Sequence[float]], list[float]]) -> Response:
        values = parse_numbers(ranker.body())
        try:
            return _json_response({"scores": fn(values)})
        except ValueError as exc:
            raise ValidationError(f"`scores`: {exc}") from None

    @app.post("/scores/normalize")
    def scores_normalize() -> Response:
        return convert(normalize)

    @app.post("/scores/denormalize")
    def scores_denormalize() -> Response:
        return convert(denormalize)

    # -- operations ----------------------------------------------------------------------
    @app.get("/health")
    def health() -> Response:
        if not engine.healthy:
            raise UnhealthyError("the inference engine has stopped; restart the server")
        return _json_response({"status": "ok"})

    @app.get("/ready")
    def ready() -> Response:
        if not engine.ready or app.config.get(DRAINING):
            raise UnhealthyError("the model is loading, has failed, or the server is stopping")
        return _json_response({"status": "ready"})

    @app.get("/info")
    def info() -> Response:
        i = engine.info
        return _json_response(
            {
                "model_id": i.model_id,
                "kind": i.kind,
                "backend": i.backend,
                "runtime": i.backend,
                "dtype": i.dtype,
                "device": i.device,
                "max_input_length": i.max_input_length,
                "score_mode": settings.score_mode,
                "version": __version__,
                "limits": {**settings.public_limits(), "max_input_length": i.max_input_length},
                **({"selection": i.selection} if i.selection is not None else {}),
            }
        )

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(), mimetype="text/plain; version=0.0.4")

    openapi_text = committed_openapi()

    @app.get("/openapi.json")
    def openapi() -> Response:
        return Response(openapi_text, mimetype="application/json")

    return app
