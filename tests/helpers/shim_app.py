"""The inference shim's own app, served by a real HTTP server on a loopback port inside the
test process (werkzeug's threaded server), for client tests that need the real routes."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


@contextmanager
def serve_shim(**settings: Any) -> Iterator[str]:
    """The shim's base URL for ``Settings(**settings)`` (e.g. ``scorer=``, ``api_key=``)."""
    from werkzeug.serving import make_server

    from inference_shim.app import create_app
    from inference_shim.config import Settings
    from inference_shim.loading import build_engine

    config = Settings(**settings)
    engine = build_engine(config)
    server = make_server("127.0.0.1", 0, create_app(config, engine=engine), threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        engine.close()
