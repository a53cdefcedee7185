"""Which runtimes can run a model: torch runs every family; ONNX and OpenVINO run what
their exporters (optimum's ONNX exporter, optimum-intel's OpenVINO exporter) can export as
a text classifier, which is how both take a cross-encoder and an LLM reranker's
classifier conversion. Asked first, so that a model an exporter cannot take fails in one
line naming the runtimes that can, not deep inside the export.

>>> runtimes_for("bert")
('torch', 'onnx', 'openvino')
>>> runtimes_for("starcoder2")  # no text-classification export in either exporter
('torch',)
"""

from __future__ import annotations

from functools import cache

from es_rerank.runtime.base import RuntimeUnavailableError

__all__ = ["check_exportable", "runtimes_for"]

_EXPORTER = {"onnx": "optimum's ONNX exporter", "openvino": "optimum-intel's OpenVINO exporter"}


@cache
def _exports(runtime: str, model_type: str) -> bool | None:
    """Whether ``runtime``'s exporter registers a text-classification export for
    ``model_type`` (None when the exporter is not installed: the runtime's own error says
    which extra to install)."""
    try:
        from optimum.exporters.tasks import TasksManager

        # importing an exporter's configs registers them
        if runtime == "openvino":
            import optimum.exporters.openvino
        else:
            import optimum.exporters.onnx.model_configs  # noqa: F401
    except ImportError:
        return None
    # The registry spells some model types with "-" where configs have "_".
    for spelling in dict.fromkeys((model_type, model_type.replace("_", "-"))):
        try:
            tasks = TasksManager.get_supported_tasks_for_model_type(
                spelling, exporter=runtime, library_name="transformers"
            )
        except (KeyError, ValueError):
            continue
        if "text-classification" in tasks:
            return True
    return False


def runtimes_for(model_type: str) -> tuple[str, ...]:
    """The runtimes that can run a model of ``model_type``, torch first (an exporter that
    is not installed counts as able: installing it is the user's fix)."""
    return ("torch", *(r for r in _EXPORTER if _exports(r, model_type) is not False))


def check_exportable(runtime: str, model_type: str, *, name: str, architecture: str) -> None:
    """Raise :class:`RuntimeUnavailableError` in one line naming the runtimes that can run
    the model, when ``runtime``'s exporter cannot export ``model_type``."""
    if runtime not in _EXPORTER or _exports(runtime, model_type) is not False:
        return
    can = [r for r in runtimes_for(model_type) if r != runtime]
    raise RuntimeUnavailableError(
        f"runtime {runtime} cannot run {name} ({architecture}, model type {model_type}): "
        f"{_EXPORTER[runtime]} has no text-classification export for it; use runtime "
        f"{' or '.join(reversed(can))}"
    )
