"""Serving the app with waitress (a threaded production WSGI server), and shutting down
gently: on SIGTERM or SIGINT the server stops accepting connections, answers every request
already received, then exits 0."""

from __future__ import annotations

import logging
import signal
import sys
import threading
import time
from types import FrameType
from typing import Any

from inference_shim.app import DRAINING, create_app
from inference_shim.config import Settings
from inference_shim.loading import build_engine
from inference_shim.metrics import Metrics
from inference_shim.runner import Engine

__all__ = ["serve"]

log = logging.getLogger("inference_shim")


def _busy(server: Any, engine: Engine) -> bool:
    if engine.open_requests:
        return True
    for channel in list(server.active_channels.values()):
        if channel.requests or channel.total_outbufs_len:
            return True
    return False


def _loading_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers while the model loads (the real app replaces it before serving starts)."""
    body = b'{"error": "the model is loading", "error_type": "Unhealthy"}'
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return [body]


def serve(settings: Settings) -> int:
    """Load the model, serve until SIGTERM/SIGINT, drain, return the exit status."""
    from waitress import create_server  # type: ignore[import-untyped]
    from waitress.wasyncore import dispatcher  # type: ignore[import-untyped]

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: draining", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # Bind (and listen) before loading the model: a port in use fails at once, not after a
    # minute of loading. Connections wait in the backlog until the loop starts below.
    server = create_server(
        _loading_app,
        host=settings.host,
        port=settings.port,
        threads=settings.threads or settings.max_queue + 4,
        # Flask answers oversized bodies with a JSON 413 (waitress spools large bodies to
        # disk first); waitress's own plain-text 413 is only a backstop for huge ones.
        max_request_body_size=max(settings.max_payload_bytes * 4, 64 * 1024 * 1024),
        ident="inference-shim",
    )
    metrics = Metrics()
    try:
        engine = build_engine(settings, metrics=metrics)
    except BaseException:
        server.close()  # the model failed to load: give the port back
        raise
    app = create_app(settings, engine=engine, metrics=metrics)
    server.application = app
    loop = threading.Thread(target=server.run, name="shim-http", daemon=True)
    loop.start()
    # The line tests and scripts wait for (the port is the real one when --port 0).
    print(
        f"inference-shim listening on http://{server.effective_host}:{server.effective_port}",
        flush=True,
    )
    engine.wait_ready()
    info = engine.info
    log.info("model %s ready on %s (%s)", info.model_id, info.device, info.kind)

    while not stop.wait(0.5):
        pass
    app.config[DRAINING] = True
    server.accepting = False
    server.trigger.pull_trigger(lambda: dispatcher.close(server))
    deadline = time.monotonic() + settings.drain_timeout

    def close_idle() -> None:
        # Idle keep-alive connections are closed so clients reconnect elsewhere; busy
        # ones finish their response first (this runs again until the end).
        for channel in list(server.active_channels.values()):
            if not channel.requests and not channel.total_outbufs_len:
                channel.will_close = True

    while _busy(server, engine) and time.monotonic() < deadline:
        server.trigger.pull_trigger(close_idle)
        time.sleep(0.05)
    busy = _busy(server, engine)
    engine.close(timeout=max(0.0, deadline - time.monotonic()))
    if busy:
        log.warning("drain timeout (%.0fs): requests still in flight", settings.drain_timeout)
        return 1
    log.info("drained; exiting")
    sys.stdout.flush()
    return 0
