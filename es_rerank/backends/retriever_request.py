"""One native retriever search, as a value: what
:meth:`~es_rerank.backends.RetrieverBackend.search_retriever` takes. Its fields are the
method's parameter list, written here once; every backend, the async protocol and the
adapter between them take the one ``request``.

>>> request = RetrieverRequest({"standard": {"query": {"match_all": {}}}}, size=5)
>>> request.from_, request.explain
(0, False)
>>> request.asked()
{'size': 5}

Backends written against the old form, ``search_retriever(retriever, *, size, from_=0,
source=True, explain=False, collapse=None)``, keep working: :func:`call_search_retriever`
recognises them and calls them so, with a :class:`DeprecationWarning`.
"""

from __future__ import annotations

import dataclasses
import inspect
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

__all__ = ["RetrieverRequest", "as_request", "call_search_retriever"]

T = TypeVar("T")

_OLD_FORM = (
    "search_retriever(retriever, *, size, ...) is deprecated: take one "
    "es_rerank.RetrieverRequest (search_retriever(request)); see docs/client.md"
)


@dataclasses.dataclass(frozen=True)
class RetrieverRequest:
    """A whole retriever tree for a backend to run natively, and the page of it wanted.

    ``retriever`` is the tree's ES JSON; the page is ``from_``..``from_+size``;
    ``source`` is the request's ``_source`` (``True``, ``False`` or a list of fields);
    with ``explain``, ``result.raw`` holds each hit's ``_explanation``; ``collapse`` is the
    request's top-level ``collapse``.
    """

    retriever: Mapping[str, Any]
    size: int
    from_: int = 0
    source: bool | Sequence[str] = True
    explain: bool = False
    collapse: Mapping[str, Any] | None = None

    def asked(self) -> dict[str, Any]:
        """The fields beside ``retriever`` that differ from their defaults (``size``
        always): what an old-form backend is passed as keywords, so one without
        ``explain`` or ``collapse`` still runs every search that does not ask for them."""
        return {
            f.name: getattr(self, f.name)
            for f in dataclasses.fields(self)
            if f.name != "retriever" and getattr(self, f.name) != f.default
        }


def as_request(
    request: RetrieverRequest | Mapping[str, Any], old: Mapping[str, Any]
) -> RetrieverRequest:
    """``request``, or a :class:`RetrieverRequest` built from an old-form call
    (``search_retriever(retriever, size=..., ...)``), which warns that the form is
    deprecated. An unknown keyword is a ``TypeError`` naming it."""
    if isinstance(request, RetrieverRequest):
        if old:
            raise TypeError(
                f"search_retriever(request) takes no keywords beside a RetrieverRequest, "
                f"got {sorted(old)}"
            )
        return request
    warnings.warn(_OLD_FORM, DeprecationWarning, stacklevel=3)
    return RetrieverRequest(request, **old)


def call_search_retriever(method: Callable[..., T], request: RetrieverRequest) -> T:
    """``method(request)``; or, when ``method`` is written in the old form (it has a
    ``retriever`` or ``size`` parameter), ``method(retriever, size=..., ...)`` with the
    asked fields, warning that the form is deprecated. ``method`` may be a coroutine
    function: its awaitable is returned."""
    try:
        names = set(inspect.signature(method).parameters)
    except (TypeError, ValueError):  # no signature to read (a builtin): the current form
        names = set()
    if names & {"retriever", "size"}:
        warnings.warn(_OLD_FORM, DeprecationWarning, stacklevel=3)
        return method(request.retriever, **request.asked())
    return method(request)
