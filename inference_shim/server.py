"""Serving the app (:mod:`inference_shim.http_server`: waitress with JSON protocol errors,
connection limits and timeouts) and shutting down gently.

On SIGTERM or SIGINT the server stops accepting connections and starts reading no new
request on open ones (one already arriving is read to its end), closes idle keep-alive
connections, answers every request received (the last one on each connection with
``Connection: close``), then stops its threads and the model's and exits 0; 1 if
``--drain-timeout`` ran out first.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from types import FrameType
from typing import Any

from inference_shim.access_log import configure_logging, install_access_log, log_protocol_error
from inference_shim.app import DRAINING, create_app
from inference_shim.config import Settings
from inference_shim.errors import error_json
from inference_shim.http_server import ShimServer, create_shim_server
from inference_shim.loading import build_engine
from inference_shim.memory import limit_arenas
from inference_shim.metrics import Metrics
from inference_shim.runner import Engine

__all__ = ["serve"]

log = logging.getLogger("inference_shim")

_DRAIN_TICK_S = 0.05


def _loading_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """Answers while the model loads (the real app replaces it before serving starts)."""
    body = error_json(503, "the model is loading")
    start_response("503 Service Unavailable", [("Content-Type", "application/json")])
    return [body]


def _on_loop(server: ShimServer, fn: Any) -> None:
    """Run ``fn`` on the server's loop thread (its sockets are only touched there)."""
    server.trigger.pull_trigger(fn)


def _drain(server: ShimServer, engine: Engine, loop: threading.Thread, timeout: float) -> bool:
    """Answer what was received, then stop every thread; True when all was answered."""
    deadline = time.monotonic() + timeout
    _on_loop(server, server.begin_drain)
    while (server.busy or engine.open_requests) and time.monotonic() < deadline:
        _on_loop(server, server.close_idle)
        time.sleep(_DRAIN_TICK_S)
    answered = not (server.busy or engine.open_requests)
    # Close what is left (the loop ends with its last socket), then the worker threads
    # and the model's: nothing may still run when the interpreter shuts down.
    _on_loop(server, lambda: server.asyncore.close_all(server._map))
    loop.join(max(0.1, deadline - time.monotonic()))
    server.task_dispatcher.shutdown(timeout=max(0.1, deadline - time.monotonic()))
    engine.close(timeout=max(0.1, deadline - time.monotonic()))
    return answered


def serve(settings: Settings) -> int:
    """Load the model, serve until SIGTERM/SIGINT, drain, return the exit status."""
    import signal

    limit_arenas()  # before the server's threads allocate
    configure_logging(settings.log_format, settings.log_level)
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        log.info("received %s: draining", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)

    # Bind (and listen) before loading the model: a port in use fails at once, not after a
    # minute of loading. Connections wait in the backlog until the loop starts below.
    server = create_shim_server(_loading_app, settings)
    server.protocol_error_hook = log_protocol_error
    metrics = Metrics()
    try:
        engine = build_engine(settings, metrics=metrics)
    except BaseException:
        server.close()  # the model failed to load: give the port back
        raise
    app = create_app(settings, engine=engine, metrics=metrics)
    install_access_log(app)
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
    log.info(
        "model %s ready on %s (%s, runtime %s %s%s)",
        info.model_id,
        info.device,
        info.kind,
        info.backend,
        info.dtype,
        ", chosen by auto" if info.selection else "",
    )

    while not stop.wait(0.5):
        pass
    app.config[DRAINING] = True
    answered = _drain(server, engine, loop, settings.drain_timeout)
    if not answered:
        log.warning("drain timeout (%.0fs): requests still in flight", settings.drain_timeout)
        # The model's thread may still be inside a forward pass: finalizing the interpreter
        # under it aborts the process (SIGABRT), so leave without finalizing.
        logging.shutdown()
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(1)
    log.info("drained; exiting")
    sys.stdout.flush()
    return 0
