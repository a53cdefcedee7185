"""Giving the heap's free memory back to the OS between batches.

glibc's malloc keeps what a thread frees in that thread's arena (up to 8 per core: 16 on
2 cores, for the shim's 68 HTTP threads and the model's), and raises its threshold for
serving a large block from a fresh mapping each time one is freed, so the activations of
later batches come from the arenas too. Freed pages stay resident: over a soak at
concurrency 32 the arenas grew from 85 to 188 MB and the main heap from 192 to 246 MB
in 2 minutes, and RSS kept growing 5-8% over the last half of 150 s soaks.
``malloc_trim(0)`` returns every arena's free pages (docs/shim-reliability.md has the
figures). Elsewhere than glibc it is a no-op.

>>> trimmer = HeapTrimmer(interval_s=10.0)
>>> trimmer.maybe_trim(now=100.0) == (trim_heap is not None)
True
>>> trimmer.maybe_trim(now=105.0)  # within the interval: nothing
False
>>> trimmer.trims == (1 if trim_heap is not None else 0)
True
"""

from __future__ import annotations

import ctypes
import ctypes.util
from collections.abc import Callable

from inference_shim.config import MALLOC_ARENA_MAX, MALLOC_MMAP_THRESHOLD

__all__ = [
    "HEAP_TRIM_INTERVAL_S",
    "MALLOC_ARENAS",
    "MMAP_THRESHOLD",
    "HeapTrimmer",
    "limit_arenas",
    "trim_heap",
]

# glibc's M_ARENA_MAX parameter, and the arenas the server's threads share: the HTTP
# threads only parse and tokenize, so a few arenas cost no measurable lock contention.
_M_ARENA_MAX = -8
MALLOC_ARENAS = 2
# glibc's M_MMAP_THRESHOLD, fixed: by default it rises to the largest block freed (up to
# 32 MB), so a batch's activations came from the heap and left it fragmented (its
# resident size swung between 224 and 423 MB over a 30-minute soak).
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 256 * 1024
# At most one trim this often: it takes each arena's lock and walks its free pages
# (a few milliseconds), against batches of 0.3-5 s.
HEAP_TRIM_INTERVAL_S = 10.0


def _glibc() -> ctypes.CDLL | None:
    """The C library when it is glibc (it has ``malloc_trim``)."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c"))
        libc.malloc_trim  # noqa: B018 (only glibc has it)
    except (OSError, AttributeError, TypeError):
        return None
    return libc


def _glibc_trim() -> Callable[[], None] | None:
    """``malloc_trim(0)`` of the C library, when it is glibc."""
    libc = _glibc()
    if libc is None:
        return None
    trim = libc.malloc_trim
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int

    def run() -> None:
        trim(0)

    return run


trim_heap = _glibc_trim()


def limit_arenas(arenas: int = MALLOC_ARENAS) -> bool:
    """Have glibc's threads share at most ``arenas`` arenas (``MALLOC_ARENA_MAX``) and
    serve every block of ``MMAP_THRESHOLD`` bytes or more from its own mapping, given back
    when freed (``MALLOC_MMAP_THRESHOLD_``), each unless the environment set it; call it
    before threads start allocating. True when the arena limit applied.

    >>> limit_arenas() in (True, False)
    True
    """
    libc = _glibc()
    if libc is None:
        return False
    if MALLOC_MMAP_THRESHOLD.value() is None:
        libc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)
    if MALLOC_ARENA_MAX.value() is not None:
        return False
    return bool(libc.mallopt(_M_ARENA_MAX, arenas))


class HeapTrimmer:
    """Calls :data:`trim_heap` at most once every ``interval_s`` seconds."""

    def __init__(self, *, interval_s: float = HEAP_TRIM_INTERVAL_S) -> None:
        self.interval_s = interval_s
        self.trims = 0
        self._last: float | None = None

    def maybe_trim(self, *, now: float) -> bool:
        """Trim when the last trim is ``interval_s`` old (or none yet); True if it did."""
        if trim_heap is None or (self._last is not None and now - self._last < self.interval_s):
            return False
        self._last = now
        trim_heap()
        self.trims += 1
        return True
