"""Optional extras: one check that says, in one line, which ``pip install`` a feature needs.

Commands call :func:`require_extra` before doing any work, so a missing extra is reported
before a model loads or an index is read, not after.

>>> require_extra("eval", "json")  # present modules: no error
>>> try:  # doctest: +ELLIPSIS
...     require_extra("onnx", "surely_not_installed_module")
... except MissingExtraError as exc:
...     print(exc)
this needs the 'onnx' extra (surely_not_installed_module is not installed): pip install ...
"""

from __future__ import annotations

import importlib.util
import json
from importlib import metadata
from urllib.parse import unquote, urlparse

from es_rerank.errors import EsRerankError

__all__ = ["TORCH_CPU_INDEX", "MissingExtraError", "pip_install_line", "require_extra"]

#: PyTorch's CPU-only wheel index: torch from here never pulls CUDA packages.
TORCH_CPU_INDEX = "https://download.pytorch.org/whl/cpu"

# Extras whose install brings torch: their install line names the CPU index, so that pip
# does not take PyPI's multi-GB CUDA build of torch.
_TORCH_EXTRAS = frozenset({"models", "bi-encoder", "shim", "eland", "onnx", "openvino", "all"})


class MissingExtraError(EsRerankError, ImportError):
    """A feature's optional dependencies are not installed. ``extra`` names the extra and
    ``str(err)`` is one line ending with the exact ``pip install`` to run."""

    def __init__(self, message: str, *, extra: str) -> None:
        super().__init__(message)
        self.extra = extra


def _requirement(extra: str) -> str:
    """``es-rerank[extra]``, or ``/path/to/checkout[extra]`` when this copy was installed
    from a local directory (as ``make venv`` and ``pip install -e .`` do)."""
    try:
        text = metadata.distribution("es-rerank").read_text("direct_url.json")
    except metadata.PackageNotFoundError:
        text = None
    if text:
        origin = json.loads(text)
        url = urlparse(str(origin.get("url", "")))
        if url.scheme == "file":
            editable = "-e " if (origin.get("dir_info") or {}).get("editable") else ""
            return f"{editable}'{unquote(url.path)}[{extra}]'"
    return f"'es-rerank[{extra}]'"


def pip_install_line(extra: str) -> str:
    """The command that installs ``extra`` (CPU torch for extras that bring torch).

    >>> pip_install_line("eval")  # doctest: +ELLIPSIS
    "pip install ...[eval]'"
    >>> pip_install_line("shim").endswith("--extra-index-url https://download.pytorch.org/whl/cpu")
    True
    """
    line = f"pip install {_requirement(extra)}"
    if extra in _TORCH_EXTRAS:
        line += f" --extra-index-url {TORCH_CPU_INDEX}"
    return line


def require_extra(extra: str, *modules: str, feature: str = "this") -> None:
    """Raise :class:`MissingExtraError` unless every top-level module in ``modules`` can be
    imported. Only looks the modules up (no import), so it is cheap to call first."""
    missing = [m for m in modules if importlib.util.find_spec(m) is None]
    if missing:
        raise MissingExtraError(
            f"{feature} needs the {extra!r} extra ({', '.join(missing)} "
            f"{'is' if len(missing) == 1 else 'are'} not installed): {pip_install_line(extra)}",
            extra=extra,
        )
