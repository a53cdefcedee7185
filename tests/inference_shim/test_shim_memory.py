"""What the server does about its memory and its cores: glibc's free heap pages given back
between batches, its threads held to a few arenas, OpenMP's idle threads sleeping rather
than spinning on shared cores."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from es_rerank.runtime import FunctionRuntime
from inference_shim.memory import HeapTrimmer, trim_heap
from inference_shim.runner import Engine
from tests.inference_shim.scorers import overlap

ROOT = Path(__file__).resolve().parents[2]

glibc_only = pytest.mark.skipif(trim_heap is None, reason="malloc_trim is glibc's; not here")


def _python(code: str, **env: str) -> str:
    """Run ``code`` in a fresh interpreter of this tree; its stdout."""
    environ = {k: v for k, v in os.environ.items() if k not in ("OMP_WAIT_POLICY",)}
    environ.update(env, PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=environ,
        timeout=120,
        check=True,
    )
    return done.stdout.strip()


@glibc_only
def test_trim_gives_a_threads_freed_heap_back() -> None:
    """Blocks a thread allocated and freed stay resident in its arena (one block at the top
    pins them) until :func:`trim_heap` returns them to the OS."""
    out = _python(
        """
        import ctypes, threading
        from inference_shim.memory import trim_heap
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        libc.memset.argtypes = [ctypes.c_void_p, ctypes.c_int, ctypes.c_size_t]
        def rss():
            status = open("/proc/self/status").read().splitlines()
            return next(int(x.split()[1]) for x in status if x.startswith("VmRSS"))
        def churn():
            blocks = [libc.malloc(16_000) for _ in range(12_000)]  # about 190 MB
            for b in blocks:
                libc.memset(b, 1, 16_000)
            for b in blocks[:-1]:  # the last one pins the arena's top
                libc.free(b)
        t = threading.Thread(target=churn); t.start(); t.join()
        before = rss(); trim_heap(); after = rss()
        print(before - after)
        """
    )
    assert int(out) > 100_000  # kB: most of the 190 MB went back


def test_trimmer_trims_at_most_once_an_interval() -> None:
    trimmer = HeapTrimmer(interval_s=10.0)
    done = [trimmer.maybe_trim(now=t) for t in (0.0, 5.0, 9.9, 10.0, 15.0, 25.0)]
    if trim_heap is None:
        assert done == [False] * 6
    else:
        assert done == [True, False, False, True, False, True]
        assert trimmer.trims == 3


@glibc_only
def test_engine_trims_between_batches_unless_told_not_to() -> None:
    runtime = FunctionRuntime(overlap, name="overlap")
    trims: list[int | None] = []
    for interval in (0.0, None):
        engine = Engine(runtime, max_batch_tokens=10, heap_trim_interval_s=interval)
        engine.start()
        try:
            for _ in range(3):
                assert engine.score("q", ["a b"] * 4).shape == (4,)
        finally:
            engine.close(30)
        trims.append(None if engine._trimmer is None else engine._trimmer.trims)
    every_batch, never = trims
    assert every_batch is not None and every_batch >= 3  # one a batch, 3 requests or more
    assert never is None


@glibc_only
def test_arenas_are_limited_unless_the_environment_chose() -> None:
    """The server's threads share at most 2 arenas (threads allocating after the limit
    land in them); ``MALLOC_ARENA_MAX`` in the environment wins."""
    code = """
        import threading, ctypes
        from inference_shim.memory import limit_arenas
        applied = limit_arenas()
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        # All 8 alive at once: a thread that exits hands its arena to the next one.
        together = threading.Barrier(8)
        def alloc():
            libc.malloc(100)
            together.wait()
        ts = [threading.Thread(target=alloc) for _ in range(8)]
        [t.start() for t in ts]; [t.join() for t in ts]
        maps = open("/proc/self/maps").read().splitlines()
        # A thread arena is a 64 MiB reservation: a read-write part, then the rest ---p.
        def span(m):
            return tuple(int(x, 16) for x in m.split()[0].split("-"))
        arenas = 0
        for a, b in zip(maps, maps[1:]):
            (s1, e1), (s2, e2) = span(a), span(b)
            anon = len(a.split()) == 5
            if anon and (a.split()[1], b.split()[1]) == ("rw-p", "---p") and e1 == s2:
                arenas += e2 - s1 == 64 << 20
        print(applied, arenas)
    """
    applied, arenas = _python(code).split()
    assert applied == "True" and int(arenas) <= 1  # the main arena and at most one more
    applied, arenas = _python(code, MALLOC_ARENA_MAX="8").split()
    assert applied == "False" and int(arenas) > 1


def test_openmp_waits_are_made_passive_before_torch_loads(tiny_cross_encoder: Path) -> None:
    """Building a model's runtime sets ``OMP_WAIT_POLICY=PASSIVE`` before torch (and its
    OpenMP) is first imported; a value in the environment is kept."""
    code = f"""
        import os, sys
        from inference_shim.config import Settings
        from inference_shim.loading import build_runtime
        assert "torch" not in sys.modules
        build_runtime(Settings(model={str(tiny_cross_encoder)!r}, device="cpu"))
        print(os.environ["OMP_WAIT_POLICY"], "torch" in sys.modules)
    """
    # The last line: the tokenizer may print warnings before it.
    assert _python(code).splitlines()[-1] == "PASSIVE True"
    assert _python(code, OMP_WAIT_POLICY="ACTIVE").splitlines()[-1] == "ACTIVE True"


@glibc_only
def test_large_blocks_keep_their_own_mapping_after_a_larger_one_was_freed() -> None:
    """glibc raises its mmap threshold to the largest block freed, so a batch's activations
    came from the heap; tuned, a 1 MB block is still mapped (and unmapped when freed)
    after a 4 MB one was freed."""
    code = """
        import ctypes, sys
        from inference_shim.memory import limit_arenas
        if sys.argv[1:] == ["tuned"]:
            limit_arenas()
        libc = ctypes.CDLL(None)
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        names = ("arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                 "uordblks", "fordblks", "keepcost")
        class MallInfo2(ctypes.Structure):
            _fields_ = [(n, ctypes.c_size_t) for n in names]
        libc.mallinfo2.restype = MallInfo2
        libc.free(libc.malloc(4 << 20))
        before = libc.mallinfo2().hblks
        block = libc.malloc(1 << 20)
        print(libc.mallinfo2().hblks - before)
    """
    tuned = code.replace('sys.argv[1:] == ["tuned"]', "True")
    assert _python(code) == "0"  # glibc's default: from the heap
    assert _python(tuned) == "1"  # its own mapping
