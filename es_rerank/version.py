"""The one version of the project: the installed distribution's metadata (from
``pyproject.toml``), read by ``es_rerank.__version__``, ``inference_shim.__version__`` and
both commands' ``--version``.

>>> import re
>>> bool(re.match(r"\\d+\\.\\d+", package_version()))
True
"""

from __future__ import annotations

from importlib import metadata

__all__ = ["DISTRIBUTION", "package_version"]

DISTRIBUTION = "es-rerank"


def package_version() -> str:
    """The installed ``es-rerank`` version (``0+unknown`` when run from an uninstalled tree)."""
    try:
        return metadata.version(DISTRIBUTION)
    except metadata.PackageNotFoundError:
        return "0+unknown"
