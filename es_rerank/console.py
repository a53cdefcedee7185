"""What a command says while it works: one convention for every face.

stdout carries results only; everything else goes to stderr through the ``es_rerank``
logger. A long step (an export, a quantization, a measurement, an index build) is announced
by :func:`long_step` before it starts, with what it is, why, about how long, and where its
result is cached; third-party output inside it (progress bars printed to stdout, tracer
warnings, exporters' INFO lines) is hidden, or routed to stderr at ``-v``.

A library caller sees nothing unless it configures logging; the commands call
:func:`configure` with the verbosity their ``--quiet`` / ``-v`` flags give.

>>> import io, sys
>>> stream = io.StringIO()
>>> configure(NORMAL, stream=stream)
>>> with long_step("exporting a model", why="first run", estimate="about 30 s"):
...     print("a third-party bar")
>>> print(stream.getvalue().splitlines()[0])
exporting a model (first run; about 30 s) ...
>>> configure(QUIET, stream=sys.stderr)
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Final, TextIO

from es_rerank import env

__all__ = [
    "NORMAL",
    "QUIET",
    "VERBOSE",
    "VERBOSITY_ENV",
    "configure",
    "long_step",
    "megabytes",
    "say",
    "third_party_output",
    "verbosity",
]

QUIET: Final = 0
NORMAL: Final = 1
VERBOSE: Final = 2
VERBOSITY_ENV: Final = env.VERBOSITY.name

log = logging.getLogger("es_rerank")

# Loggers of the libraries a first run drives; at NORMAL only their errors show.
_THIRD_PARTY: Final = (
    "transformers",
    "sentence_transformers",
    "optimum",
    "nncf",
    "openvino",
    "onnxruntime",
    "huggingface_hub",
    "torch",
)

# "steps": announced steps running now (a heavy call outside one runs unannounced).
_state = {"verbosity": QUIET, "configured": False, "steps": 0}
_HANDLER_NAME = "es-rerank-console"


def verbosity() -> int:
    """The level set by :func:`configure` (:data:`QUIET` until a command sets one)."""
    return _state["verbosity"]


def configure(level: int, *, stream: TextIO | None = None) -> None:
    """Show the package's own progress lines on ``stream`` (stderr) at ``level``:
    :data:`QUIET` results and errors only, :data:`NORMAL` also the command's own steps,
    :data:`VERBOSE` also third-party output (on stderr, never stdout)."""
    _state["verbosity"] = level
    _state["configured"] = True
    for old in [h for h in log.handlers if h.get_name() == _HANDLER_NAME]:
        log.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.set_name(_HANDLER_NAME)
    handler.setFormatter(logging.Formatter("%(message)s"))
    log.addHandler(handler)
    log.setLevel(logging.INFO if level >= NORMAL else logging.WARNING)
    log.propagate = False
    third_level = logging.INFO if level >= VERBOSE else logging.ERROR
    for name in _THIRD_PARTY:
        logging.getLogger(name).setLevel(third_level)
    if level < VERBOSE:
        # transformers sets its logger's level from this when it is first used
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def say(message: str, *, detail: bool = False) -> None:
    """One line of the command's own on stderr (shown from :data:`NORMAL` up); a ``detail``
    of the step just run is indented under it."""
    log.info(f"{'  ' * (_state['steps'] + 1)}{message}" if detail else message)


class _Diverted(io.TextIOBase):
    """What ``sys.stdout`` is inside :func:`third_party_output`. A library may keep it (a
    logging handler made while it was imported there), so it stays usable for good: text
    goes to stderr at :data:`VERBOSE`, else to the innermost step still running (shown if
    that step fails), else nowhere."""

    def __init__(self) -> None:
        super().__init__()
        self.held: list[list[str]] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if verbosity() >= VERBOSE:
            if sys.__stderr__ is not None:
                sys.__stderr__.write(text)
        elif self.held:
            self.held[-1].append(text)
        return len(text)


_DIVERTED = _Diverted()


@contextlib.contextmanager
def third_party_output() -> Iterator[None]:
    """Inside: whatever the libraries write to stdout (Python's ``print`` and native code's
    writes to file descriptor 1 alike: tokenizers, OpenVINO) goes to stderr at
    :data:`VERBOSE` and is held back below it, shown only if the step fails; warnings are
    hidden below :data:`VERBOSE`. So stdout stays the command's results. Until a command
    calls :func:`configure`, nothing is redirected."""
    if not _state["configured"]:
        yield
        return
    held: list[str] = []
    _DIVERTED.held.append(held)
    try:
        with tempfile.TemporaryFile() as native, warnings.catch_warnings():
            if verbosity() < VERBOSE:
                warnings.simplefilter("ignore")
            try:
                fd1 = sys.__stderr__ if verbosity() >= VERBOSE else native
                with _fd1_to(fd1), contextlib.redirect_stdout(_DIVERTED):
                    yield
            except BaseException:
                native.seek(0)
                sys.stderr.write("".join(held) + native.read().decode(errors="replace"))
                raise
    finally:
        _DIVERTED.held.remove(held)


@contextlib.contextmanager
def _fd1_to(target: IO[Any] | None) -> Iterator[None]:
    """File descriptor 1, where native code writes whatever ``sys.stdout`` is, to
    ``target``; left alone where there is no such descriptor or target file."""
    try:
        fd = target.fileno() if target is not None else -1
        sys.stdout.flush()
        saved = os.dup(1) if fd >= 0 else -1
    except (OSError, ValueError):
        saved = -1
    if saved < 0:
        yield
        return
    os.dup2(fd, 1)
    try:
        yield
    finally:
        os.dup2(saved, 1)
        os.close(saved)


@contextlib.contextmanager
def long_step(what: str, *, why: str = "", estimate: str = "") -> Iterator[None]:
    """Announce a step that may take more than a few seconds, run it with third-party
    output contained, and say how long it took."""
    details = "; ".join(part for part in (why, estimate) if part)
    indent = "  " * _state["steps"]  # a step inside another is shown under it
    say(f"{indent}{what} ({details}) ..." if details else f"{indent}{what} ...")
    start = time.perf_counter()
    _state["steps"] += 1
    try:
        with third_party_output():
            yield
    finally:
        _state["steps"] -= 1
    say(f"{indent}  done in {time.perf_counter() - start:.1f} s")


def megabytes(path: Path) -> int:
    """The size of a file or folder, in MB."""
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    return round(sum(f.stat().st_size for f in files) / 1e6)
