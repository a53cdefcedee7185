"""Building the objects a search needs from plain options: the backend (a local index or an
Elasticsearch index) and the reranker (an in-process model, the shim, or another rerank
server over HTTP). The command line and applications use the same functions, so they check
the same things the same way.

>>> import tempfile
>>> from es_rerank.errors import LocalIndexError
>>> try:
...     open_backend(local=tempfile.mkdtemp())
... except LocalIndexError as exc:
...     print(str(exc).split(";")[0].endswith("is empty, not an es-rerank index"))
True
>>> make_reranker(shim_url="http://localhost:8080")
ShimReranker('http://localhost:8080')
>>> make_reranker(rerank_url="http://tei:8080", rerank_format="tei")
HttpReranker('http://tei:8080/rerank', format='tei')
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path
from typing import TYPE_CHECKING

from es_rerank.backends.base import Backend
from es_rerank.console import long_step, third_party_output
from es_rerank.elastic.backend import ElasticsearchBackend
from es_rerank.elastic.connection import ConnectionOptions
from es_rerank.errors import ConfigurationError
from es_rerank.extras import require_extra
from es_rerank.rerankers.base import Reranker
from es_rerank.rerankers.formats import check_format, rerank_endpoint
from es_rerank.rerankers.http import HttpReranker
from es_rerank.rerankers.shim import ShimReranker, shim_endpoint
from es_rerank.spelling import flag_spelling

if TYPE_CHECKING:
    from es_rerank.models import LoadedModel
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

__all__ = [
    "MODEL_MODULES",
    "check_one_reranker",
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


def check_one_reranker(*, model: object, shim_url: object, rerank_url: object) -> None:
    """At most one way to rerank may be given."""
    given = [
        flag
        for flag, value in (
            ("--model", model),
            ("--shim-url", shim_url),
            ("--rerank-url", rerank_url),
        )
        if value is not None
    ]
    if len(given) > 1:
        raise ConfigurationError(
            f"give at most one of --model, --shim-url and --rerank-url (got {' and '.join(given)})"
        )


def make_reranker(
    *,
    model: str | Path | LoadedModel | None = None,
    shim_url: str | None = None,
    shim_api_key: str | None = None,
    rerank_url: str | None = None,
    rerank_format: str = "es",
    rerank_api_key: str | None = None,
    rerank_model: str | None = None,
    score_scale: str = "raw",
    timeout: float = 30.0,
    batch_size: int = 32,
    max_length: int | None = None,
    runtime: str = "torch",
    dtype: str | None = None,
    max_batch_tokens: int | None = None,
    instruction: str | None = None,
) -> Reranker | None:
    """A reranker from at most one of ``model`` (a local directory or hub id, loaded in
    process on ``runtime``/``dtype``), ``shim_url`` (the shim's base URL) and ``rerank_url``
    (a rerank server speaking ``rerank_format``: ``tei``, ``cohere`` or ``es``); ``None``
    when none is given."""
    check_one_reranker(model=model, shim_url=shim_url, rerank_url=rerank_url)
    if shim_url is not None:
        shim_endpoint(shim_url, name="--shim-url")
        return ShimReranker(shim_url, api_key=shim_api_key, timeout=timeout)
    if rerank_url is not None:
        rerank_endpoint(
            check_format(rerank_format, name="--rerank-format").name,
            rerank_url,
            name="--rerank-url",
        )
        return HttpReranker(
            rerank_url,
            format=rerank_format,
            model=rerank_model,
            api_key=rerank_api_key,
            score_scale=score_scale,
            timeout=timeout,
            spelling=flag_spelling({"score_scale": "--rerank-score-scale"}),
        )
    if model is None:
        return None
    return cross_encoder_reranker(
        model,
        batch_size=batch_size,
        max_length=max_length,
        runtime=runtime,
        dtype=dtype,
        max_batch_tokens=max_batch_tokens,
        instruction=instruction,
    )


def cross_encoder_reranker(
    model: str | Path | LoadedModel,
    *,
    batch_size: int = 32,
    max_length: int | None = None,
    runtime: str = "torch",
    dtype: str | None = None,
    max_batch_tokens: int | None = None,
    instruction: str | None = None,
) -> CrossEncoderReranker:
    """An in-process reranker for ``model`` (a directory, a hub id, or a loaded model) on
    ``runtime`` (torch, onnx, openvino or auto) in ``dtype``; ``max_batch_tokens`` bounds
    the padded tokens of one forward pass (default: the runtime's); ``instruction`` is what
    an LLM reranker reads (default: its model card's)."""
    if isinstance(batch_size, bool) or batch_size < 1:
        raise ConfigurationError(f"--batch-size must be >= 1, got {batch_size}")
    require_models()
    from es_rerank.rerankers.cross_encoder import CrossEncoderReranker

    if isinstance(model, str | Path):
        shown = runtime if dtype is None else f"{runtime} {dtype}"
        step: AbstractContextManager[None] = long_step(f"loading {model} (runtime {shown})")
    else:  # a model already in memory: nothing long to announce
        step = third_party_output()
    with step:
        return CrossEncoderReranker(
            model,
            batch_size=batch_size,
            max_length=max_length,
            runtime=runtime,
            dtype=dtype,
            max_batch_tokens=max_batch_tokens,
            instruction=instruction,
        )
