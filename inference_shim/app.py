"""The Flask application: rerank routes in the TEI, Cohere and Elasticsearch inference
formats, score conversion, health, info, metrics and the OpenAPI document.

>>> from es_rerank.runtime import FunctionRuntime
>>> from inference_shim.runner import Engine
>>> engine = Engine(FunctionRuntime(lambda q, ts: [float(len(t)) for t in ts], name="len"))
>>> engine.start()
>>> client = create_app(Settings(scorer="len"), engine=engine).test_client()
>>> body = {"query": "q", "texts": ["ab", "abc"]}
>>> client.post("/rerank", json={**body, "raw_scores": True}).get_json()
[{'index': 1, 'score': 3.0}, {'index': 0, 'score': 2.0}]
>>> [round(r["score"], 4) for r in client.post("/rerank", json=body).json]  # TEI: sigmoid
[0.9526, 0.8808]
>>> engine.close()
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import time
from concurrent.futures import CancelledError as FutureCancelledError
from pathlib import Path
from typing import Any, TypeVar

from flask import Flask, Response, g, request
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException

from es_rerank.runtime.loader import family_info
from es_rerank.scores import denormalize, normalize
from es_rerank.version import package_version
from es_rerank.wire import (
    Limits,
    NormalizedScoreList,
    Ranking,
    RerankRequest,
    Route,
    ScoreList,
    ScoreMode,
    WireError,
    WireFormat,
    parse,
    route_score_modes,
    shim_routes,
)
from inference_shim.config import Settings
from inference_shim.disconnect import await_scores, client_gone_check
from inference_shim.errors import (
    BackendError,
    CancelledError,
    EmptyError,
    MalformedRequestError,
    OverloadedError,
    ShimError,
    UnauthorizedError,
    UnhealthyError,
    UnsupportedMediaTypeError,
    ValidationError,
    error_json,
)
from inference_shim.metrics import Metrics
from inference_shim.modes import apply_mode
from inference_shim.runner import Engine
from inference_shim.schemas import committed_openapi, render_openapi

__all__ = [
    "DRAINING",
    "OPEN_PATHS",
    "SUBMISSION",
    "TIMING",
    "TIMING_HEADERS",
    "create_app",
    "public_model_id",
]

log = logging.getLogger("inference_shim")

# app.config key the server sets on SIGTERM.
DRAINING = "SHIM_DRAINING"

# WSGI environ keys of a rerank request: its engine Submission while it waits (a server that
# sees the client go calls ``environ[SUBMISSION].cancel()`` to drop its queued work), and its
# runner.Timing once scored (for an access log).
SUBMISSION = "inference_shim.submission"
TIMING = "inference_shim.timing"
# TEI's timing response headers, in whole milliseconds as TEI writes them.
TIMING_HEADERS = ("x-total-time", "x-tokenization-time", "x-queue-time", "x-inference-time")

# Open without the API key unless --protect-info, as in TEI (whose /info needs the key).
OPEN_PATHS = frozenset({"/health", "/ready", "/metrics", "/openapi.json"})

Message = TypeVar("Message", bound=BaseModel)


def _json_response(payload: Any) -> Response:
    return Response(
        json.dumps(payload, ensure_ascii=False, allow_nan=False), mimetype="application/json"
    )


def _model_response(message: BaseModel) -> Response:
    return Response(message.model_dump_json(exclude_none=True), mimetype="application/json")


def _error_response(status: int, message: str, error_type: str | None = None) -> Response:
    return Response(error_json(status, message, error_type), status, mimetype="application/json")


def _shim_error_response(exc: ShimError) -> Response:
    resp = _error_response(exc.status, exc.message, exc.error_type)
    if isinstance(exc, OverloadedError):
        resp.headers["Retry-After"] = str(exc.retry_after)
    if isinstance(exc, UnauthorizedError):
        resp.headers["WWW-Authenticate"] = "Bearer"
    return resp


def _is_json(mimetype: str) -> bool:
    return mimetype == "application/json" or (
        mimetype.startswith("application/") and mimetype.endswith("+json")
    )


def _shim_error(exc: WireError) -> ShimError:
    if exc.problem == "malformed":
        return MalformedRequestError(exc.message)
    if exc.problem == "empty":
        return EmptyError(exc.message)
    return ValidationError(exc.message)


class _Ranker:
    """Reads request bodies into wire models, scores them through the engine and orders
    the result."""

    def __init__(self, settings: Settings, engine: Engine) -> None:
        self.settings = settings
        self.engine = engine
        self.limits = Limits(
            max_texts=settings.max_client_batch_size, max_chars=settings.max_text_chars
        )

    def read_rerank(self, model: type[Message]) -> Message:
        """The body of a rerank request as ``model``, once the engine would admit a request
        (an overloaded server refuses before parsing)."""
        self.engine.check_admission()
        return self.read(model)

    def read(self, model: type[Message]) -> Message:
        """The body as ``model``: JSON declared and well-formed, every value valid."""
        if not _is_json(request.mimetype):
            got = f"`{request.mimetype[:100]}`" if request.mimetype else "none"
            raise UnsupportedMediaTypeError(
                f"send the body as JSON with `Content-Type: application/json` (got {got})"
            )
        try:
            return parse(model, request.get_data(cache=False), self.limits)
        except WireError as exc:
            raise _shim_error(exc) from None

    def rank(self, req: RerankRequest, default_mode: ScoreMode) -> Ranking:
        """(index, score) pairs, best first, cut to ``top_n``; scored in the mode the request
        asks for, else ``default_mode``."""
        g.pairs = len(req.texts_to_rank)
        started = g.get("started", time.perf_counter())
        submission = self.engine.submit(
            req.query,
            req.texts_to_rank,
            truncate=req.truncate is not False,
            truncation_direction=req.direction,
            instruction=req.instruction,
            timeout=self.settings.request_timeout - (time.perf_counter() - started),
        )
        request.environ[SUBMISSION] = submission
        try:
            # A client that disconnects while waiting has its queued work dropped.
            raw = await_scores(submission, client_gone=client_gone_check(request.environ))
        except FutureCancelledError:
            raise CancelledError("the request was cancelled: its client has gone") from None
        finally:
            request.environ.pop(SUBMISSION, None)
        request.environ[TIMING] = submission.timing
        scores = apply_mode(raw.tolist(), req.mode(default_mode))
        bad = next((i for i, s in enumerate(scores) if not math.isfinite(s)), None)
        if bad is not None:
            raise BackendError(f"the model returned a non-finite score for text {bad}")
        order = sorted(range(len(scores)), key=lambda i: (-scores[i], i))
        if req.top_n is not None:
            order = order[: req.top_n]
        return [(i, scores[i]) for i in order]


def _rerank_view(ranker: _Ranker, wire: WireFormat, route: Route, mode: ScoreMode) -> Any:
    """The view of one rerank route: its format's request in, its format's answer out,
    scored in ``mode`` unless the request asks for another."""

    def rerank() -> Response:
        req = ranker.read_rerank(wire.request)
        ranking = ranker.rank(req, mode)
        return _model_response(req.answer(ranking, api_version=route.api_version))

    return rerank


def public_model_id(name: str) -> str:
    """The model as ``/info`` shows it: a hub id as given, a local directory by its name
    only (never the server's absolute path).

    >>> public_model_id("cross-encoder/ms-marco-MiniLM-L6-v2")
    'cross-encoder/ms-marco-MiniLM-L6-v2'
    >>> public_model_id("/srv/models/my-ce/")
    'my-ce'
    """
    path = Path(name).expanduser()
    if path.is_absolute() or name.startswith(".") or path.exists():
        return path.resolve().name or name
    return name


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
            total = time.perf_counter() - started
            metrics.latency.labels(route=rule).observe(total)
            timing = request.environ.get(TIMING)
            if timing is not None:
                parts = (total, timing.tokenization_s, timing.queue_s, timing.inference_s)
                for name, seconds in zip(TIMING_HEADERS, parts, strict=True):
                    resp.headers[name] = str(int(seconds * 1000))
                resp.headers["x-compute-tokens"] = str(timing.tokens)
        return resp

    @app.errorhandler(ShimError)
    def _shim_error(exc: ShimError) -> Response:
        return _shim_error_response(exc)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        code = exc.code or 500
        detail = exc.description or exc.name
        if code == 413:
            detail = f"the request body is larger than {settings.max_payload_bytes} bytes"
        resp = _error_response(code, detail)
        for key, value in exc.get_headers():
            if key.lower() == "allow":
                resp.headers[key] = value
        return resp

    @app.errorhandler(Exception)
    def _fault(exc: Exception) -> Response:
        # Only genuine server faults land here: every client mistake is a ShimError above.
        log.exception("unexpected error on %s %s", request.method, request.path)
        return _error_response(500, f"internal error: {type(exc).__name__}")

    # -- rerank routes: every route of the registry (es_rerank.wire.WIRE_FORMATS) ----------
    score_modes = route_score_modes(settings.score_mode)
    for wire, route in shim_routes():
        app.add_url_rule(
            route.path,
            endpoint=f"rerank {route.path}",
            view_func=_rerank_view(ranker, wire, route, score_modes[route.path]),
            methods=["POST"],
        )

    # -- score conversion ----------------------------------------------------------------
    @app.post("/scores/normalize")
    def scores_normalize() -> Response:
        body = ranker.read(ScoreList)
        return _model_response(ScoreList(scores=normalize(body.scores)))

    @app.post("/scores/denormalize")
    def scores_denormalize() -> Response:
        body = ranker.read(NormalizedScoreList)
        return _model_response(ScoreList(scores=denormalize(body.scores)))

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
                "model_id": public_model_id(i.model_id),
                "kind": i.kind,
                "backend": i.backend,
                "runtime": i.backend,
                "dtype": i.dtype,
                "device": i.device,
                "max_input_length": i.max_input_length,
                "score_mode": settings.score_mode,
                "score_modes": score_modes,
                "version": package_version(),
                "limits": {
                    **settings.public_limits(),
                    "max_batch_tokens": engine.max_batch_tokens,
                    "max_input_length": i.max_input_length,
                },
                **({"selection": i.selection} if i.selection is not None else {}),
                **family_info(engine.runtime),
            }
        )

    @app.get("/metrics")
    def prometheus() -> Response:
        return Response(metrics.render(), mimetype="text/plain; version=0.0.4")

    # The committed document states each route's own default; --score-mode changes them.
    openapi_text = (
        committed_openapi() if settings.score_mode is None else render_openapi(settings.score_mode)
    )

    @app.get("/openapi.json")
    def openapi() -> Response:
        return Response(openapi_text, mimetype="application/json")

    return app
