"""Awaiting with a time limit without losing a cancellation.

Before Python 3.12, ``asyncio.wait_for`` returns the result of what it awaits when that result and a
cancellation of the waiting task arrive in the same turn of the event loop: the cancellation is lost
(python/cpython#86296). In the runner, a cancellation is a stop (``workflows stop``, a ``SIGTERM``); lost, the
workflow ran on with its pod, which was seen when a pod's leader was named by the zygote just as the stop came.
:func:`within` keeps the cancellation: with ``asyncio.timeout`` from Python 3.11 on, with a timer before.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float | None) -> T:
    """Await ``awaitable`` for at most ``seconds`` (``None``: without limit) and return its result. Past the limit
    it is cancelled and :class:`asyncio.TimeoutError` raised; a cancellation of the caller is never turned into a
    result, unlike ``asyncio.wait_for`` before Python 3.12."""
    if seconds is None:
        return await awaitable
    if sys.version_info >= (3, 11):
        async with asyncio.timeout(seconds):
            return await awaitable
    return await _within_by_timer(awaitable, seconds)


async def _within_by_timer(awaitable: Awaitable[T], seconds: float) -> T:
    """:func:`within` where ``asyncio.timeout`` is missing (Python 3.9 and 3.10): a timer cancels the awaited task.
    Only when the timer fired and the caller was cancelled in the same turn does the caller get a timeout."""
    task = asyncio.ensure_future(awaitable)
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(seconds, expire)
    try:
        return await task
    except asyncio.CancelledError:
        if expired and task.cancelled():
            raise asyncio.TimeoutError from None
        raise
    finally:
        timer.cancel()
