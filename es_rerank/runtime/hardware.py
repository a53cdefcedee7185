"""What the CPU can do (read once from ``/proc/cpuinfo``), for choosing dtypes.

>>> isinstance(cpu_flags(), frozenset)
True
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

__all__ = [
    "cpu_flags",
    "cpu_has_amx",
    "cpu_name",
    "cpu_supports_bf16",
    "cpu_supports_vnni",
    "default_threads",
    "load_average",
    "machine_summary",
]


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU feature flags (empty where ``/proc/cpuinfo`` is not readable)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("flags", "Features")):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


@functools.cache
def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    import platform

    return platform.processor() or "unknown CPU"


def cpu_supports_bf16() -> bool:
    """bf16 matrix instructions (AVX-512 BF16 or AMX)."""
    return bool(cpu_flags() & {"avx512_bf16", "amx_bf16"})


def cpu_has_amx() -> bool:
    """AMX bf16 tiles (Intel Xeon since Sapphire Rapids): OpenVINO's defaults differ there
    (:mod:`es_rerank.runtime.openvino_runtime`)."""
    return "amx_bf16" in cpu_flags()


def cpu_supports_vnni() -> bool:
    """int8 dot-product instructions (AVX-512 VNNI or AVX-VNNI)."""
    return bool(cpu_flags() & {"avx512_vnni", "avx_vnni", "amx_int8"})


def default_threads() -> int:
    """One intra-op thread per CPU the process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def machine_summary() -> str:
    """The machine as reports record it: architecture, CPU model and the CPUs this process
    may use, e.g. ``x86_64 Intel(R) Xeon(R) ... 2 CPUs``."""
    import platform

    return f"{platform.machine()} {cpu_name()} {default_threads()} CPUs".strip()


def load_average() -> list[float] | None:
    """The 1, 5 and 15 minute load averages, rounded; ``None`` where there are none."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except (AttributeError, OSError):  # not on every platform
        return None
