"""``runtime="auto"``: score the shipped calibration set with every runtime and dtype that
can run here, keep those that agree with fp32 torch (Spearman >= 0.99 over all pairs and
no passage moving more than two places within its query's ranking) and take the fastest.

The decision is recorded in the cache (keyed by the model's content, the library versions,
the CPU and the thread count), so later starts load the chosen runtime directly; the
measurement table goes to stderr, and ``--remeasure`` (``ES_RERANK_REMEASURE=1``) measures
again.
"""

from __future__ import annotations

import importlib.util
import json
import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from es_rerank import env
from es_rerank.console import long_step, say
from es_rerank.runtime.agreement import Agreement
from es_rerank.runtime.base import ModelRuntime, RuntimeUnavailableError
from es_rerank.runtime.batching import score_pairs
from es_rerank.runtime.cache import cache_root, library_versions, model_digest
from es_rerank.runtime.hardware import cpu_flags, cpu_name, cpu_supports_bf16, default_threads

__all__ = [
    "MAX_DISPLACEMENT",
    "MIN_SPEARMAN",
    "REMEASURE_ENV",
    "Candidate",
    "Selection",
    "candidates",
    "choose_runtime",
    "decision_table",
    "remeasure_requested",
]

#: set to 1 to measure again instead of loading the recorded decision (``--remeasure``)
REMEASURE_ENV = env.REMEASURE.name
MIN_SPEARMAN = 0.99
MAX_DISPLACEMENT = 2
_LIBRARIES = (
    "torch",
    "transformers",
    "optimum",
    "optimum-onnx",
    "optimum-intel",
    "onnxruntime",
    "openvino",
    "nncf",
)
_FORMAT = 1


@dataclass
class Candidate:
    """One runtime/dtype tried on the calibration set."""

    runtime: str
    dtype: str
    accepted: bool = False
    spearman: float | None = None
    max_abs_diff: float | None = None
    max_displacement: int | None = None
    pairs_per_s: float | None = None
    error: str | None = None


@dataclass
class Selection:
    """What ``auto`` chose and why."""

    runtime: str
    dtype: str
    candidates: list[Candidate] = field(default_factory=list)
    cached: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Selection:
        return cls(
            runtime=data["runtime"],
            dtype=data["dtype"],
            candidates=[Candidate(**c) for c in data.get("candidates", [])],
            cached=True,
        )


def candidates(device: str, dtype: str | None = None) -> list[tuple[str, str]]:
    """Runtime/dtype combinations that can run here, fp32 torch (the reference) first."""
    found = importlib.util.find_spec
    out: list[tuple[str, str]] = [("torch", "fp32")]
    if device.startswith("cuda"):
        out += [("torch", "fp16"), ("torch", "bf16")]
    else:
        bf16 = cpu_supports_bf16()
        if bf16:
            out.append(("torch", "bf16"))
        if found("onnxruntime") and found("optimum"):
            out += [("onnx", "fp32"), ("onnx", "int8")]
        if found("openvino") and found("nncf") and found("optimum"):
            out += [
                ("openvino", "fp32"),
                *([("openvino", "bf16")] if bf16 else []),
                ("openvino", "int8"),
            ]
    if dtype is not None:
        out = [c for c in out if c[1] == dtype or c == ("torch", "fp32")]
    return out


def _decision_file(
    root: Path, digest: str, device: str, threads: int, extra: dict[str, Any]
) -> Path:
    import hashlib

    blob = json.dumps(
        {
            "format": _FORMAT,
            "model": digest,
            "device": device,
            "threads": threads,
            "cpu": cpu_name(),
            "flags": sorted(cpu_flags()),
            **library_versions(_LIBRARIES),
            **extra,
        },
        sort_keys=True,
    )
    return root / f"auto-{hashlib.sha256(blob.encode()).hexdigest()[:20]}.json"


def choose_runtime(
    path: Path,
    *,
    build: Callable[..., ModelRuntime],
    name: str,
    dtype: str | None = None,
    device: str | None = None,
    max_length: int | None = None,
    threads: int | None = None,
    cache: Path | None = None,
    instruction: str | None = None,
) -> ModelRuntime:
    """The fastest runtime that agrees with fp32 torch on the calibration set; the returned
    runtime has a ``selection`` attribute (:class:`Selection`) saying what was measured.
    ``build(path, runtime=..., dtype=..., **options)`` makes one candidate (the loader's,
    passed in so that this module does not import the loader)."""
    from es_rerank.runtime.torch_runtime import resolve_device

    dev = resolve_device(device)
    n_threads = threads or default_threads()
    root = cache or cache_root()
    digest = model_digest(path)
    options = candidates(dev, dtype)
    decision = _decision_file(
        root, digest, dev, n_threads, {"max_length": max_length, "candidates": options}
    )
    common: dict[str, Any] = {
        "name": name,
        "device": dev,
        "max_length": max_length,
        "threads": n_threads,
        "cache": cache,
        "digest": digest,
        "instruction": instruction,
    }
    if decision.is_file() and not remeasure_requested():
        try:
            chosen = Selection.from_dict(json.loads(decision.read_text()))
            rt = build(path, runtime=chosen.runtime, dtype=chosen.dtype, **common)
            rt.selection = chosen  # type: ignore[attr-defined]
            say(
                f"runtime auto: {chosen.runtime} {chosen.dtype}, as measured earlier on this "
                f"machine (recorded in {decision}; --remeasure or {REMEASURE_ENV}=1 measures "
                "again)"
            )
            return rt
        except (OSError, ValueError, KeyError, TypeError, RuntimeUnavailableError):
            pass  # unreadable or no longer loadable: measure again
    with long_step(
        f"runtime auto: measuring {len(options)} runtime/dtype candidates on the calibration "
        "set to keep the fastest that agrees with fp32",
        why="first run on this machine; the decision is recorded",
        estimate=f"about {20 * len(options)} s on 2 cores, exports included",
    ):
        selection, chosen_rt = _measure(path, build, options, common)
    say(decision_table(selection))
    try:
        root.mkdir(parents=True, exist_ok=True)
        tmp = decision.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(json.dumps(selection.to_dict(), indent=2))
        os.replace(tmp, decision)
        say(f"recorded in {decision}; --remeasure or {REMEASURE_ENV}=1 measures again")
    except OSError:
        pass  # a read-only cache only costs the measurement next time
    chosen_rt.selection = selection  # type: ignore[attr-defined]
    return chosen_rt


def remeasure_requested() -> bool:
    """Whether ``$ES_RERANK_REMEASURE`` asks ``auto`` to measure again (``--remeasure``)."""
    return env.REMEASURE.truthy()


def decision_table(selection: Selection) -> str:
    """What ``auto`` measured, one candidate a line, the chosen one marked.

    >>> sel = Selection("openvino", "int8", [Candidate("torch", "fp32", True, 1.0, 0.0, 0, 30.0),
    ...     Candidate("openvino", "int8", True, 0.995, 0.4, 1, 150.0)])
    >>> print(decision_table(sel))
    runtime auto: openvino int8
        runtime  dtype   pairs/s  spearman  max moved  verdict
        torch    fp32       30.0    1.0000          0  agrees
      * openvino int8      150.0    0.9950          1  agrees
    """
    lines = [
        f"runtime auto: {selection.runtime} {selection.dtype}",
        f"    {'runtime':<8} {'dtype':<5} {'pairs/s':>9} {'spearman':>9} {'max moved':>10}"
        "  verdict",
    ]
    for c in selection.candidates:
        mark = "*" if (c.runtime, c.dtype) == (selection.runtime, selection.dtype) else " "
        if c.error is not None:
            lines.append(f"  {mark} {c.runtime:<8} {c.dtype:<5} {'-':>9} {'-':>9} {'-':>10}  "
                         f"failed: {c.error[:60]}")  # fmt: skip
            continue
        verdict = "agrees" if c.accepted else "disagrees with fp32"
        speed = f"{c.pairs_per_s:.1f}" if c.pairs_per_s is not None else "-"
        rho = f"{c.spearman:.4f}" if c.spearman is not None else "-"
        moved = str(c.max_displacement) if c.max_displacement is not None else "-"
        lines.append(
            f"  {mark} {c.runtime:<8} {c.dtype:<5} {speed:>9} {rho:>9} {moved:>10}  {verdict}"
        )
    return "\n".join(lines)


def _measure(
    path: Path,
    build: Callable[..., ModelRuntime],
    options: list[tuple[str, str]],
    common: dict[str, Any],
) -> tuple[Selection, ModelRuntime]:
    from es_rerank.runtime.calibration import calibration_pairs

    groups = calibration_pairs()
    sizes = [len(texts) for _, texts in groups]
    tried: list[Candidate] = []
    reference: list[float] | None = None
    best: tuple[float, ModelRuntime] | None = None
    for runtime, dt in options:
        cand = Candidate(runtime=runtime, dtype=dt)
        tried.append(cand)
        try:
            rt = build(path, runtime=runtime, dtype=dt, **common)
            rt.setup_thread()
            pairs = [p for q, texts in groups for p in rt.tokenize(q, texts)]
            t0 = time.perf_counter()
            scores = score_pairs(rt, pairs)
            cand.pairs_per_s = len(pairs) / (time.perf_counter() - t0)
        except Exception as exc:  # a runtime that fails here is simply not chosen
            cand.error = f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"
            if reference is None:
                raise
            continue
        values = scores.tolist()
        if reference is None:
            reference = values
        agree = Agreement.of(reference, values, groups=sizes)
        cand.spearman = agree.spearman
        cand.max_abs_diff = agree.max_abs_diff
        cand.max_displacement = agree.max_displacement
        cand.accepted = agree.acceptable(
            min_spearman=MIN_SPEARMAN, max_displacement=MAX_DISPLACEMENT
        )
        if cand.accepted and (best is None or cand.pairs_per_s > best[0]):
            best = (cand.pairs_per_s, rt)
        del rt
    assert best is not None  # fp32 torch agrees with itself
    chosen_rt = best[1]
    return Selection(runtime=chosen_rt.runtime, dtype=chosen_rt.dtype, candidates=tried), chosen_rt
