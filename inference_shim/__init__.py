"""inference_shim: serve a cross-encoder as a rerank inference endpoint Elasticsearch can call.

The HTTP stack (flask, waitress) is the ``shim`` extra; it is imported on first use of a
name below, so ``inference-shim`` can say which extra is missing instead of failing on import.

>>> from inference_shim import Settings
>>> Settings(scorer="pkg.mod:fn").max_client_batch_size
1000
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from es_rerank.version import package_version

if TYPE_CHECKING:
    from inference_shim.app import create_app
    from inference_shim.config import Settings
    from inference_shim.loading import build_engine
    from inference_shim.runner import Engine, Submission, Timing

__all__ = [
    "Engine",
    "Settings",
    "Submission",
    "Timing",
    "__version__",
    "build_engine",
    "create_app",
]

__version__ = package_version()

_LAZY = {
    "Engine": "inference_shim.runner",
    "Submission": "inference_shim.runner",
    "Timing": "inference_shim.runner",
    "Settings": "inference_shim.config",
    "build_engine": "inference_shim.loading",
    "create_app": "inference_shim.app",
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'inference_shim' has no attribute {name!r}")
