"""inference_shim: serve a cross-encoder as a rerank inference endpoint Elasticsearch can call.

>>> from inference_shim import Settings
>>> Settings(scorer="pkg.mod:fn").score_mode
'raw'
"""

__version__ = "0.1.0"

from inference_shim.app import create_app
from inference_shim.config import Settings
from inference_shim.loading import build_engine
from inference_shim.runner import Engine

__all__ = ["Engine", "Settings", "__version__", "build_engine", "create_app"]
