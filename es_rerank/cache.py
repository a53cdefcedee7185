"""The package's one on-disk cache: where it is, and how an entry is built safely.

Everything cached lives under :func:`cache_home` (``$ES_RERANK_CACHE``, else
``$XDG_CACHE_HOME/es-rerank``, default ``~/.cache/es-rerank``), one folder per kind:
``runtimes/`` (exported and quantized models, :mod:`es_rerank.runtime.cache`) and
``indexes/`` (local indexes of corpora and of the demo, :mod:`es_rerank.index_cache`).
An entry is built in a temporary directory and renamed into place
(:func:`cached_build`), so an interrupted or concurrent build never leaves half an entry.

>>> cache_home({"ES_RERANK_CACHE": "/tmp/c"}), cache_dir("indexes", {"ES_RERANK_CACHE": "/tmp/c"})
(PosixPath('/tmp/c'), PosixPath('/tmp/c/indexes'))
>>> cache_home({"XDG_CACHE_HOME": "/x"})
PosixPath('/x/es-rerank')
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Literal

from es_rerank import env
from es_rerank.console import long_step, megabytes, say
from es_rerank.errors import ConfigurationError

__all__ = ["CacheKind", "cache_dir", "cache_home", "cached_build", "writable_cache_dir"]

CacheKind = Literal["runtimes", "indexes"]


def cache_home(environ: Mapping[str, str] | None = None) -> Path:
    """``$ES_RERANK_CACHE``, else ``$XDG_CACHE_HOME/es-rerank`` (default
    ``~/.cache/es-rerank``)."""
    base = env.CACHE.text(environ)
    if base:
        return Path(base)
    xdg = env.XDG_CACHE_HOME.text(environ) or str(Path.home() / ".cache")
    return Path(xdg) / "es-rerank"


def cache_dir(kind: CacheKind, environ: Mapping[str, str] | None = None) -> Path:
    """The folder of the cache that holds ``kind`` entries."""
    return cache_home(environ) / kind


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
