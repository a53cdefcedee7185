"""Run the synchronous search code on the event loop, awaiting its I/O.

:func:`run_sync` calls a plain function in a greenlet; wherever that function reaches an
awaitable (an async backend's query, an async reranker's call, an ``AsyncElasticsearch``
request), :func:`await_` hands it to the calling coroutine, which awaits it on the event loop
and switches back with the result or the exception. So the one executor in
:mod:`es_rerank.external` and the rules in :mod:`es_rerank.rules` serve async callers
unchanged, with no thread: SQLAlchemy's asyncio support works the same way.

>>> import asyncio
>>> async def double(x):
...     await asyncio.sleep(0)
...     return 2 * x
>>> def plain(x):  # synchronous code calling an async function
...     return await_(double(x)) + 1
>>> asyncio.run(run_sync(plain, 20))
41
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar, cast

import greenlet

__all__ = ["await_", "resolve", "run_sync"]

T = TypeVar("T")


class _Bridged(greenlet.greenlet):  # type: ignore[misc]
    """A greenlet running synchronous code for the coroutine in ``driver``."""

    def __init__(self, fn: Callable[..., Any], driver: greenlet.greenlet) -> None:
        super().__init__(fn, driver)
        self.driver = driver


def await_(awaitable: Awaitable[T]) -> T:
    """The result of ``awaitable``, awaited by the coroutine that called :func:`run_sync`."""
    current = greenlet.getcurrent()
    if not isinstance(current, _Bridged):
        if inspect.iscoroutine(awaitable):
            awaitable.close()  # never awaited: no "was never awaited" warning on top
        raise RuntimeError(
            "an async backend or reranker was called outside es_rerank.asyncio: await "
            "es_rerank.asyncio.search(...), or pass synchronous ones to es_rerank.search"
        )
    return cast(T, current.driver.switch(awaitable))


def resolve(value: T | Awaitable[T]) -> T:
    """``value``, awaited first when it is awaitable (an async method's coroutine)."""
    if inspect.isawaitable(value):
        return cast(T, await_(value))
    return value


async def run_sync(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a greenlet, awaiting what it passes to :func:`await_`;
    its exceptions (and a cancellation of this coroutine) propagate as usual."""
    context = _Bridged(fn, greenlet.getcurrent())
    result = context.switch(*args, **kwargs)
    while not context.dead:
        try:
            value = await result
        except BaseException:
            result = context.throw(*sys.exc_info())
        else:
            result = context.switch(value)
    return cast(T, result)
