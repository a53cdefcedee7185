"""Building the objects a search needs from plain options: the backend (a local index or an
Elasticsearch index) and the reranker (an in-process model or the shim). The command line
and applications use the same functions, so they check the same things the same way.

>>> import tempfile
>>> from es_rerank.errors import LocalIndexError
>>> try:
...     open_backend(local=tempfile.mkdtemp())
... except LocalIndexError as exc:
...     print(str(exc).split(";")[0].endswith("is empty, not an es-rerank index"))
True
>>> make_reranker(shim_url="http://localhost:8080")
ShimReranker('http://localhost:8080')
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from es_rerank.backends.base import Backend
from es_rerank.elastic.backend import ElasticsearchBackend
from es_rerank.elastic.connection import ConnectionOptions
from es_rerank.errors import ConfigurationError
from es_rerank.extras import require_extra
from es_rerank.rerankers.base import Reranker
from es_rerank.rerankers.shim import ShimReranker, shim_endpoint

if TYPE_CHECKING:
    from es_rerank.models import LoadedModel
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

__all__ = [
    "MODEL_MODULES",
    "cross_encoder_reranker",
    "make_reranker",
    "open_backend",
    "require_models",
]

#: What an in-process model needs (the ``models`` extra).
MODEL_MODULES = ("torch", "transformers", "sentence_transformers")


def require_models(feature: str = "an in-process model (--model)") -> None:
    """Fail in one line, before any work, when the ``models`` extra is missing."""
    require_extra("models", *MODEL_MODULES, feature=feature)


def open_backend(
    *,
    local: str | Path | None = None,
    index: str | None = None,
    connection: ConnectionOptions | None = None,
) -> Backend:
    """An existing local index at ``local``, or Elasticsearch index ``index`` on the cluster
    ``connection`` names (default: from the ``ES_*`` environment). Nothing is created."""
    if local is not None:
        from es_rerank.backends.local import LocalIndex

        return LocalIndex.open(local)
    connection = connection or ConnectionOptions.resolve()
    if not connection.configured:
        raise ConfigurationError(
            "give --local PATH, or --es-url URL (or ES_URL) / --cloud-id with --index NAME"
        )
    if not index:
        raise ConfigurationError("--index NAME is required to search Elasticsearch")
    return ElasticsearchBackend(connection.client(), index)


def make_reranker(
    *,
    model: str | Path | LoadedModel | None = None,
    shim_url: str | None = None,
    shim_api_key: str | None = None,
    batch_size: int = 32,
    max_length: int | None = None,
    runtime: str = "torch",
    dtype: str | None = None,
    max_batch_tokens: int | None = None,
) -> Reranker | None:
    """A reranker from at most one of ``model`` (a local directory or hub id, loaded in
    process on ``runtime``/``dtype``) and ``shim_url`` (the shim's base URL); ``None`` when
    neither is given."""
    if model is not None and shim_url is not None:
        raise ConfigurationError("give at most one of --model and --shim-url")
    if shim_url is not None:
        shim_endpoint(shim_url, name="--shim-url")
        return ShimReranker(shim_url, api_key=shim_api_key)
    if model is None:
        return None
    return cross_encoder_reranker(
        model,
        batch_size=batch_size,
        max_length=max_length,
        runtime=runtime,
        dtype=dtype,
        max_batch_tokens=max_batch_tokens,
    )


def cross_encoder_reranker(
    model: str | Path | LoadedModel,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    runtime: str = "torch",
    dtype: str | None = None,
    max_batch_tokens: int | None = None,
) -> CrossEncoderReranker:
    """An in-process reranker for ``model`` (a directory, a hub id, or a loaded model) on
    ``runtime`` (torch, onnx, openvino or auto) in ``dtype``; ``max_batch_tokens`` bounds
    the padded tokens of one forward pass (default: the runtime's)."""
    if isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigurationError(f"--batch-size must be >= 1, got {batch_size}")
    require_models()
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker
    from es_rerank.runtime.batching import DEFAULT_MAX_BATCH_TOKENS

    return CrossEncoderReranker(
        model,
        batch_size=batch_size,
        max_length=max_length,
        runtime=runtime,
        dtype=dtype,
        max_batch_tokens=max_batch_tokens or DEFAULT_MAX_BATCH_TOKENS,
    )
