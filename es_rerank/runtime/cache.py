"""On-disk cache of exported and quantized models.

An entry is keyed by the model's content (a hash of its config, weights and tokenizer
files), the runtime, the dtype and the versions of the libraries that built it, so a new
model, a new exporter or a new runtime version gets a fresh export and the second start
of the same setup loads the cached one. Entries are built in a temporary directory and
renamed into place, so an interrupted export never leaves a half-written entry.

>>> import tempfile
>>> d = Path(tempfile.mkdtemp())
>>> _ = (d / "config.json").write_text("{}")
>>> len(model_digest(d))
64
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from es_rerank.console import long_step, megabytes, say
from es_rerank.errors import ConfigurationError

__all__ = [
    "cache_root",
    "cached_build",
    "entry_key",
    "export_estimate",
    "library_versions",
    "model_digest",
    "model_entry",
    "writable_cache_dir",
]

# Bumped when the layout of an entry changes.
_FORMAT = 1
_SKIP_SUFFIXES = (".md", ".lock")


def cache_root() -> Path:
    """``$ES_RERANK_CACHE/runtimes``, else ``$XDG_CACHE_HOME/es-rerank/runtimes`` (default
    ``~/.cache/es-rerank/runtimes``)."""
    base = os.environ.get("ES_RERANK_CACHE")
    if base:
        return Path(base) / "runtimes"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg) / "es-rerank" / "runtimes"


def model_digest(path: Path) -> str:
    """SHA-256 over the names and bytes of the model directory's files (not its README)."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.startswith(".") or rel.endswith(_SKIP_SUFFIXES):
            continue
        h.update(rel.encode() + b"\0")
        with f.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                h.update(chunk)
    return h.hexdigest()


def library_versions(names: Iterable[str]) -> dict[str, str]:
    """Installed versions of the distributions that shape an export."""
    out: dict[str, str] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def entry_key(digest: str, runtime: str, dtype: str, versions: dict[str, str]) -> str:
    """Directory name of a cache entry."""
    blob = json.dumps(
        {"format": _FORMAT, "model": digest, "runtime": runtime, "dtype": dtype, **versions},
        sort_keys=True,
    )
    return f"{runtime}-{dtype}-{hashlib.sha256(blob.encode()).hexdigest()[:20]}"


def writable_cache_dir(path: Path) -> Path:
    """``path``, created if absent; a cache directory that cannot be written is a
    :class:`~es_rerank.errors.ConfigurationError` naming it and ``ES_RERANK_CACHE``."""
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".write-probe-"):
            pass
    except OSError as exc:
        raise ConfigurationError(
            f"the cache directory {path} cannot be written ({exc.strerror or exc}); set "
            "ES_RERANK_CACHE to a writable directory"
        ) from None
    return path


def cached_build(
    root: Path,
    key: str,
    build: Callable[[Path], None],
    *,
    describe: dict[str, object],
    announce: str = "",
    estimate: str = "",
) -> tuple[Path, bool]:
    """The entry ``root/key``, built by ``build(tmp_dir)`` when absent. Returns the entry
    and whether it came from the cache. A build is announced as ``announce`` (a long first-run
    step: :func:`es_rerank.console.long_step`)."""
    entry = root / key
    if (entry / "entry.json").is_file():
        return entry, True
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=writable_cache_dir(root)))
    step = long_step(
        announce or f"building {key}",
        why="first run only; later runs load it",
        estimate=estimate,
    )
    try:
        with step:
            build(tmp)
        (tmp / "entry.json").write_text(json.dumps(describe, indent=2, sort_keys=True))
        try:
            os.rename(tmp, entry)
        except OSError:  # another process finished the same entry first: use theirs
            if not (entry / "entry.json").is_file():
                raise
            shutil.rmtree(tmp, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    say(f"cached in {entry} ({megabytes(entry)} MB)", detail=True)
    return entry, False


def model_entry(
    path: Path,
    *,
    digest: str,
    runtime: str,
    dtype: str,
    versions: dict[str, str],
    build: Callable[[Path], None],
    cache: Path | None = None,
) -> Path:
    """The cache entry of ``path`` on ``runtime``/``dtype``, built by ``build`` when absent."""
    entry, _ = cached_build(
        cache or cache_root(),
        entry_key(digest, runtime, dtype, versions),
        build,
        announce=f"exporting {path.name} to {runtime} {dtype}",
        estimate=export_estimate(path, dtype),
        describe={
            "model": str(path),
            "digest": digest,
            "runtime": runtime,
            "dtype": dtype,
            **versions,
        },
    )
    return entry


# Seconds per MB of weights, measured on 2 cores with all-MiniLM-L6-sized models (90 MB:
# about 10 s to export, 30 s to export and quantize with calibration).
_SECONDS_PER_MB = {"int8": 0.35}
_DEFAULT_SECONDS_PER_MB = 0.12


def export_estimate(path: Path, dtype: str) -> str:
    """A rough duration for exporting ``path`` at ``dtype``, from the size of its weights."""
    weights = [p for p in path.glob("*") if p.suffix in (".safetensors", ".bin", ".pt")]
    mb = sum(p.stat().st_size for p in weights) / 1e6
    seconds = max(5, round(mb * _SECONDS_PER_MB.get(dtype, _DEFAULT_SECONDS_PER_MB), -1))
    return f"about {seconds:.0f} s on 2 cores" if mb else ""
