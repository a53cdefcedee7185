"""Runs an ``es-rerank`` command and records every heavy call it makes (importing torch,
loading model weights, compiling, quantizing or exporting a model) with whether the command
had announced it: inside :func:`es_rerank.console.long_step` or under a progress bar.

    python -m tests.helpers.step_audit REPORT.json search --local idx ...

REPORT.json gets ``[{"call": ..., "announced": bool, "seconds": float}, ...]``. The calls are
wrapped as their modules load, so the audit itself imports nothing heavy.
"""

from __future__ import annotations

import functools
import importlib.abc
import importlib.machinery
import json
import sys
import time
from collections.abc import Callable, Sequence
from types import ModuleType
from typing import Any

from es_rerank import console

calls: list[dict[str, Any]] = []


def _announced() -> bool:
    tqdm = sys.modules.get("tqdm.std")
    bars = getattr(getattr(tqdm, "tqdm", None), "_instances", ())
    return console._state["steps"] > 0 or bool(bars)


def _audited(name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def call(*args: Any, **kwargs: Any) -> Any:
        announced, start = _announced(), time.perf_counter()
        try:
            return fn(*args, **kwargs)
        finally:
            calls.append(
                {"call": name, "announced": announced, "seconds": time.perf_counter() - start}
            )

    return call


def _wrap(owner: Any, attr: str, name: str, *, classmethod_: bool = False) -> None:
    fn = getattr(owner, attr, None)
    if fn is None:
        return
    if classmethod_:
        setattr(owner, attr, classmethod(_audited(name, fn.__func__)))
    else:
        setattr(owner, attr, _audited(name, fn))


def _patch(module: ModuleType) -> None:
    """The heavy entry points each library offers, wrapped once its module has loaded."""
    match module.__name__:
        case "transformers.modeling_utils":
            _wrap(module.PreTrainedModel, "from_pretrained", "from_pretrained", classmethod_=True)
        case "openvino":
            _wrap(module.Core, "compile_model", "openvino compile_model")
        case "nncf":
            _wrap(module, "quantize", "nncf quantize")
            _wrap(module, "compress_weights", "nncf compress_weights")
        case "onnxruntime":
            _wrap(module, "InferenceSession", "onnxruntime session")
        case "torch.onnx":
            _wrap(module, "export", "torch.onnx export")


_WATCHED = {"transformers.modeling_utils", "openvino", "nncf", "onnxruntime", "torch.onnx"}


class _Finder(importlib.abc.MetaPathFinder):
    """Patches a watched module right after it runs, and records torch's import."""

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> importlib.machinery.ModuleSpec | None:
        if fullname not in _WATCHED and fullname != "torch":
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            spec = finder.find_spec(fullname, path, target)  # type: ignore[attr-defined]
            if spec is not None and spec.loader is not None:
                exec_module = spec.loader.exec_module

                def run(module: ModuleType, exec_module: Any = exec_module) -> None:
                    if module.__name__ == "torch":
                        _audited("import torch", exec_module)(module)
                    else:
                        exec_module(module)
                        _patch(module)

                spec.loader.exec_module = run  # type: ignore[method-assign]
                return spec
        return None


def main(argv: list[str]) -> int:
    report, command = argv[0], argv[1:]
    sys.meta_path.insert(0, _Finder())
    from es_rerank.cli import main as cli

    try:
        return cli(command)
    finally:
        with open(report, "w", encoding="utf-8") as f:
            json.dump(calls, f)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
