"""Build a :class:`ModelRuntime` from a model name or path, a runtime and a dtype.

>>> from es_rerank.models import packaged_bi_encoder_path
>>> rt = load_runtime(packaged_bi_encoder_path())
>>> rt.kind, rt.runtime, rt.dtype
('bi-encoder', 'torch', 'fp32')
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from es_rerank.models import LoadedModel, load_model, model_kind, resolve_model_path
from es_rerank.runtime.base import (
    DTYPES,
    RUNTIMES,
    MaxLengthError,
    ModelRuntime,
    RuntimeUnavailableError,
)
from es_rerank.runtime.cache import model_digest
from es_rerank.runtime.families import detect_family
from es_rerank.runtime.support import check_exportable

__all__ = ["check_choice", "describe", "family_info", "load_runtime"]


def check_choice(runtime: str, dtype: str | None) -> None:
    """Raise :class:`RuntimeUnavailableError` naming the parameter for an unknown value."""
    if runtime not in (*RUNTIMES, "auto"):
        raise RuntimeUnavailableError(
            f"runtime must be one of {', '.join((*RUNTIMES, 'auto'))}, got {runtime!r}"
        )
    if dtype is not None and dtype not in DTYPES:
        raise RuntimeUnavailableError(f"dtype must be one of {', '.join(DTYPES)}, got {dtype!r}")


def load_runtime(
    model: str | os.PathLike[str] | LoadedModel,
    *,
    runtime: str = "torch",
    dtype: str | None = None,
    device: str | None = None,
    max_length: int | None = None,
    threads: int | None = None,
    cache_dir: str | os.PathLike[str] | None = None,
    instruction: str | None = None,
) -> ModelRuntime:
    """Load ``model`` (a directory, a hub id, or a :class:`LoadedModel`) on ``runtime``
    (``torch``, ``onnx``, ``openvino`` or ``auto``) in ``dtype`` (``fp32`` by default;
    ``bf16``, ``int8``, ``fp16`` on CUDA). ``auto`` scores the shipped calibration set with
    every runtime that installs here and keeps the fastest one that agrees with fp32
    (:func:`es_rerank.runtime.auto.choose_runtime`); ``dtype`` then narrows the choice.
    The model's family (:func:`es_rerank.runtime.families.detect_family`) says how it scores
    a pair; ``instruction`` is an LLM reranker's default instruction (else its template's).

    Raises :class:`RuntimeUnavailableError` for a combination that cannot run here,
    :class:`~es_rerank.extras.MissingExtraError` for a runtime whose extra is not
    installed, :class:`~es_rerank.models.ModelLoadError` for a model that does not load.
    """
    check_choice(runtime, dtype)
    if max_length is not None and (isinstance(max_length, bool) or max_length < 1):
        raise ValueError(f"max_length must be a positive integer, got {max_length!r}")
    cache = Path(cache_dir) if cache_dir is not None else None
    loaded = model if isinstance(model, LoadedModel) else None
    name = loaded.name if loaded else str(model)
    path = Path(loaded.path) if loaded else resolve_model_path(name)
    kind = loaded.kind if loaded else model_kind(path)
    if kind == "bi-encoder":
        if instruction is not None:
            raise ValueError(f"instruction: {name} is a bi-encoder; only LLM rerankers take one")
        _check_bi_encoder_runtime(name, runtime, dtype)  # before any weights are loaded
        return _bi_encoder(loaded or load_model(path, device=device), max_length)
    family = detect_family(path)  # refuses a checkpoint without a trained head, first
    if instruction is not None and family.template is None:
        raise ValueError(
            f"instruction: {name} ({family.name}) has no prompt template to put an instruction "
            "in; only LLM rerankers take one"
        )
    if runtime == "auto":
        from es_rerank.runtime.auto import choose_runtime

        return choose_runtime(
            path,
            build=build,
            name=name,
            dtype=dtype,
            device=device,
            max_length=max_length,
            threads=threads,
            cache=cache,
            instruction=instruction,
        )
    return build(
        path,
        name=name,
        runtime=runtime,
        dtype=dtype or "fp32",
        device=device,
        max_length=max_length,
        threads=threads,
        cache=cache,
        loaded=loaded,
        instruction=instruction,
    )


def build(
    path: Path,
    *,
    name: str,
    runtime: str,
    dtype: str,
    device: str | None = None,
    max_length: int | None = None,
    threads: int | None = None,
    cache: Path | None = None,
    loaded: LoadedModel | None = None,
    digest: str | None = None,
    instruction: str | None = None,
) -> ModelRuntime:
    """One concrete runtime for a cross-encoder directory."""
    if runtime == "torch":
        from es_rerank.runtime.torch_runtime import TorchRuntime, check_torch_dtype

        if loaded is not None and loaded.kind == "cross-encoder":
            hf = loaded.model.model
            check_torch_dtype(dtype, str(next(hf.parameters()).device))
            limit = max_length or loaded.max_length
            return TorchRuntime(
                hf,
                loaded.model.tokenizer,
                name=name,
                dtype=dtype,
                max_length=limit,
                threads=threads,
                family=detect_family(path),
                instruction=instruction,
            )
        return TorchRuntime.load(
            path,
            name=name,
            dtype=dtype,
            device=device,
            max_length=max_length,
            threads=threads,
            instruction=instruction,
        )
    if device is not None and not device.startswith("cpu"):
        raise RuntimeUnavailableError(
            f"runtime {runtime} runs on the CPU; for device {device!r} use runtime torch"
        )
    config = json.loads((path / "config.json").read_text())
    check_exportable(
        runtime,
        str(config.get("model_type", "")),
        name=name,
        architecture=str((config.get("architectures") or ["?"])[0]),
    )
    digest = digest or model_digest(path)
    cls: Any
    if runtime == "onnx":
        from es_rerank.runtime.onnx_runtime import OnnxRuntime as cls
    else:
        from es_rerank.runtime.openvino_runtime import OpenVINORuntime as cls
    try:
        rt: ModelRuntime = cls(
            path,
            name=name,
            digest=digest,
            dtype=dtype,
            max_length=max_length,
            threads=threads,
            cache=cache,
            instruction=instruction,
        )
    except (RuntimeUnavailableError, ImportError):
        raise
    except Exception as exc:  # exporters raise many types; name the model and runtime
        raise RuntimeUnavailableError(
            f"runtime {runtime} ({dtype}) cannot run {name}: {type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}; use runtime torch"
        ) from exc
    return rt


def _check_bi_encoder_runtime(name: str, runtime: str, dtype: str | None) -> None:
    if runtime not in ("torch", "auto") or (dtype or "fp32") != "fp32":
        raise RuntimeUnavailableError(
            f"{name} is a bi-encoder: only runtime torch with dtype fp32 serves it "
            f"(got runtime {runtime}, dtype {dtype}); the other runtimes take cross-encoders"
        )


def _bi_encoder(loaded: LoadedModel, max_length: int | None) -> ModelRuntime:
    from es_rerank.runtime.function_runtime import BiEncoderRuntime

    if max_length is not None and max_length > loaded.max_length:
        raise MaxLengthError(max_length, loaded.max_length, name=loaded.name)
    return BiEncoderRuntime(
        loaded.model, name=loaded.name, max_length=max_length or loaded.max_length
    )


def describe(runtime: ModelRuntime) -> dict[str, Any]:
    """What ``/info`` and the eval report say about a runtime."""
    out: dict[str, Any] = {
        "model": runtime.name,
        "kind": runtime.kind,
        "runtime": runtime.runtime,
        "dtype": runtime.dtype,
        "device": runtime.device,
        "max_length": runtime.max_length,
    }
    out.update(family_info(runtime))
    selection = getattr(runtime, "selection", None)
    if selection is not None:
        out["selection"] = selection.to_dict()
    return out


def family_info(runtime: ModelRuntime) -> dict[str, Any]:
    """The model family, its prompt template and the default instruction of a model
    runtime (none for a bi-encoder or a scorer)."""
    tokenizer = getattr(runtime, "tokenizer", None)
    family = getattr(tokenizer, "family", None)
    if family is None:
        return {}
    info: dict[str, Any] = family.describe(getattr(tokenizer, "instruction", None))
    return info
