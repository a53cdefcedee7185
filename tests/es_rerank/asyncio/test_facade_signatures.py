"""The async facade's signatures are the synchronous ones: ``await es_rerank.asyncio.search``
takes what :func:`es_rerank.search` takes (same names, order, kinds and defaults; only the
backend and reranker may be async). ``search_retriever``'s parameter list is written once,
as the fields of :class:`~es_rerank.RetrieverRequest`: every ``search_retriever`` in the
package (found by walking it, not listed here) takes that one request, so a parameter added
to one backend and not the others has nowhere to go."""

from __future__ import annotations

import importlib
import inspect
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import es_rerank
import es_rerank.asyncio
from es_rerank.asyncio.backends import sync_backend
from es_rerank.backends.base import RetrieverBackend

PACKAGE_ROOT = Path(es_rerank.__file__).parent

#: The parameters whose types the async facade widens to async objects.
ASYNC_WIDENED = {"backend", "reranker"}


def shape(
    fn: Callable[..., Any], *, widened: frozenset[str] = frozenset()
) -> list[tuple[Any, ...]]:
    """Each parameter's name, kind, default and (unless widened) annotation, in order."""
    return [
        (p.name, p.kind, p.default, None if p.name in widened else str(p.annotation))
        for p in inspect.signature(fn).parameters.values()
        if p.name != "self"
    ]


def test_async_search_takes_what_search_takes() -> None:
    widened = frozenset(ASYNC_WIDENED)
    assert shape(es_rerank.asyncio.search, widened=widened) == shape(
        es_rerank.search, widened=widened
    )
    assert "explain" in inspect.signature(es_rerank.asyncio.search).parameters


def _adapter_method() -> Callable[..., Any]:
    class Native:
        async def search_query(self, query: Any, *, size: int) -> list[Any]:
            return []

        async def supports_native(self) -> bool:
            return True

        async def search_retriever(self, request: Any) -> Any:
            return None

    adapter = sync_backend(Native())
    assert isinstance(adapter, RetrieverBackend)
    return type(adapter).search_retriever  # type: ignore[no-any-return]


def search_retrievers() -> dict[str, Callable[..., Any]]:
    """Every class of the package defining ``search_retriever`` (protocols included), by
    qualified name, plus the bridge's adapter (a class made at run time)."""
    found: dict[str, Callable[..., Any]] = {"adapter": _adapter_method()}
    for path in sorted(PACKAGE_ROOT.rglob("*.py")):
        if "def search_retriever" not in path.read_text():
            continue  # importing every module would run the CLIs' __main__
        dotted = ".".join(path.relative_to(PACKAGE_ROOT.parent).with_suffix("").parts)
        module = importlib.import_module(dotted.removesuffix(".__init__"))
        for cls in vars(module).values():
            own = inspect.isclass(cls) and cls.__module__ == module.__name__
            if own and "search_retriever" in vars(cls):
                found[f"{module.__name__}.{cls.__qualname__}"] = vars(cls)["search_retriever"]
    return found


def test_the_walk_finds_every_search_retriever() -> None:
    found = search_retrievers()
    for name in (
        "es_rerank.backends.base.RetrieverBackend",
        "es_rerank.asyncio.backends.AsyncRetrieverBackend",
        "es_rerank.elastic.backend.ElasticsearchBackend",
        "es_rerank.elastic.async_backend.AsyncElasticsearchBackend",
        "adapter",
    ):
        assert name in found


@pytest.mark.parametrize("name", sorted(search_retrievers()))
def test_every_search_retriever_takes_one_request(name: str) -> None:
    """The first parameter is the request; the only other parameter allowed is the
    ``**old`` keywords of the deprecated call form, whose names are the request's fields."""
    params = list(inspect.signature(search_retrievers()[name]).parameters.values())[1:]
    first, *rest = params
    assert first.annotation.startswith("RetrieverRequest"), (name, first)
    assert first.kind in (first.POSITIONAL_ONLY, first.POSITIONAL_OR_KEYWORD)
    assert all(p.kind is p.VAR_KEYWORD for p in rest), (name, rest)
