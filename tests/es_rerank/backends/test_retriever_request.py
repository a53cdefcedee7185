"""RetrieverRequest, what every ``search_retriever`` takes, and the deprecated old form
``search_retriever(retriever, *, size, ...)``: a backend of one's own written so (sync or
async) still runs native searches, passed only what the search asks for, with a
DeprecationWarning."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest

import es_rerank.asyncio
from es_rerank import RetrieverRequest, SearchHit, SearchResult, StandardRetriever, search
from es_rerank.backends.retriever_request import as_request, call_search_retriever
from tests.helpers.memory_backend import MemoryBackend

DOCS = [{"_id": "d1", "text": "moon"}, {"_id": "d2", "text": "sun"}]
TREE = StandardRetriever(query={"match": {"text": "moon"}})


def _result() -> SearchResult:
    return SearchResult(hits=[SearchHit("d1", 1.0, {}, rank=1)], mode="native", total=1, took_ms=0)


class OldForm(MemoryBackend):
    """A user's backend written against the old protocol, without ``explain``/``collapse``."""

    def __init__(self) -> None:
        super().__init__(DOCS)
        self.old_calls: list[tuple[Any, dict[str, Any]]] = []

    def supports_native(self) -> bool:
        return True

    def search_retriever(self, retriever: Any, *, size: int, from_: int = 0) -> SearchResult:
        self.old_calls.append((retriever, {"size": size, "from_": from_}))
        return _result()


class AsyncOldForm:
    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    async def search_query(self, query: Any, *, size: int) -> list[Any]:
        return []

    async def supports_native(self) -> bool:
        return True

    async def search_retriever(self, retriever: Any, **kw: Any) -> SearchResult:
        self.calls.append({"retriever": retriever, **kw})
        return _result()


def test_asked_holds_size_and_what_differs_from_the_defaults() -> None:
    request = RetrieverRequest({"standard": {}}, size=3)
    assert request.asked() == {"size": 3}
    moved = dataclasses.replace(request, from_=2, explain=True, collapse={"field": "y"})
    assert moved.asked() == {"size": 3, "from_": 2, "explain": True, "collapse": {"field": "y"}}


def test_asked_is_every_field_but_the_retriever() -> None:
    # derived from the dataclass, so a field added there reaches old-form backends too
    everything = RetrieverRequest({}, size=1, from_=1, source=["t"], explain=True, collapse={})
    names = [f.name for f in dataclasses.fields(RetrieverRequest)]
    assert list(everything.asked()) == names[1:]


def test_an_old_form_backend_runs_natively_with_a_deprecation_warning() -> None:
    backend = OldForm()
    with pytest.warns(DeprecationWarning, match=r"RetrieverRequest"):
        result = search(TREE, backend=backend, size=2, from_=1, mode="native")
    assert result.hits[0].id == "d1"
    assert backend.old_calls == [(TREE.to_dict(), {"size": 2, "from_": 1})]


def test_an_old_form_backend_is_not_passed_what_was_not_asked() -> None:
    backend = OldForm()
    with pytest.warns(DeprecationWarning):
        search(TREE, backend=backend, mode="native")  # no explain, no collapse
    (_, kwargs), = backend.old_calls  # fmt: skip
    assert kwargs == {"size": 10, "from_": 0}


def test_an_async_old_form_backend_runs_natively_with_a_deprecation_warning() -> None:
    backend = AsyncOldForm()
    with pytest.warns(DeprecationWarning, match=r"RetrieverRequest"):
        result = asyncio.run(
            es_rerank.asyncio.search(TREE, backend=backend, size=2, mode="native", explain=True)
        )
    assert result.mode == "native"
    assert backend.calls == [{"retriever": TREE.to_dict(), "size": 2, "explain": True}]


def test_a_new_form_method_is_called_with_the_request_and_no_warning(
    recwarn: pytest.WarningsRecorder,
) -> None:
    seen: list[RetrieverRequest] = []

    def method(request: RetrieverRequest) -> str:
        seen.append(request)
        return "ok"

    request = RetrieverRequest({"standard": {}}, size=4)
    assert call_search_retriever(method, request) == "ok"
    assert seen == [request] and not recwarn.list


def test_as_request_builds_one_from_the_old_call_form() -> None:
    with pytest.warns(DeprecationWarning):
        built = as_request({"standard": {}}, {"size": 2, "explain": True})
    assert built == RetrieverRequest({"standard": {}}, size=2, explain=True)


def test_as_request_names_an_unknown_keyword() -> None:
    with pytest.warns(DeprecationWarning), pytest.raises(TypeError, match="sizes"):
        as_request({"standard": {}}, {"sizes": 2})


def test_a_request_with_keywords_beside_it_is_refused() -> None:
    with pytest.raises(TypeError, match=r"\['size'\]"):
        as_request(RetrieverRequest({}, size=1), {"size": 2})
