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

__all__ = [
    "cache_root",
    "cached_build",
    "entry_key",
    "library_versions",
    "model_digest",
    "model_entry",
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


def cached_build(
    root: Path, key: str, build: Callable[[Path], None], *, describe: dict[str, object]
) -> tuple[Path, bool]:
    """The entry ``root/key``, built by ``build(tmp_dir)`` when absent. Returns the entry
    and whether it came from the cache."""
    entry = root / key
    if (entry / "entry.json").is_file():
        return entry, True
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=root))
    try:
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
        describe={
            "model": str(path),
            "digest": digest,
            "runtime": runtime,
            "dtype": dtype,
            **versions,
        },
    )
    return entry
