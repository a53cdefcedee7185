"""On-disk cache of exported and quantized models (in :mod:`es_rerank.cache`).

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
from collections.abc import Callable, Iterable
from importlib import metadata
from pathlib import Path

from es_rerank.cache import cache_dir, cached_build, writable_cache_dir

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
# sentence-transformers' own backend exports (``backend="onnx"/"openvino"``) sit in these
# folders of the model directory; no export here reads them, and writing one there must
# not make every cached export of the model stale.
_SKIP_FOLDERS = ("onnx/", "openvino/")


def cache_root() -> Path:
    """Where exported models go: ``runtimes/`` in :func:`es_rerank.cache.cache_home`."""
    return cache_dir("runtimes")


def model_digest(path: Path) -> str:
    """SHA-256 over the names and bytes of the model directory's files (not its README, nor
    sentence-transformers' ``onnx/`` and ``openvino/`` exports)."""
    h = hashlib.sha256()
    for f in sorted(p for p in path.rglob("*") if p.is_file()):
        rel = f.relative_to(path).as_posix()
        if rel.startswith((".", *_SKIP_FOLDERS)) or rel.endswith(_SKIP_SUFFIXES):
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
