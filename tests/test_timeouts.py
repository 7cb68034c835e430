"""``workflows.engine.timeouts.within``: a time limit that never loses a cancellation (a workflow's stop)."""

from __future__ import annotations

import asyncio
import sys

import pytest

from workflows.engine.timeouts import _within_by_timer, within

IMPLEMENTATIONS = {"within": within, "timer (Python < 3.11)": _within_by_timer}


async def cancelled_as_the_result_comes(limit):
    """A task awaits ``limit(shield(inner), 10)``; in one turn of the loop, ``inner`` gets its result and the task
    is cancelled (as the zygote's answer and a stop's ``SIGTERM`` can arrive together): what the task ends with."""
    loop = asyncio.get_running_loop()
    inner = loop.create_future()

    async def waiting():
        return await limit(asyncio.shield(inner), 10)

    task = asyncio.ensure_future(waiting())
    await asyncio.sleep(0)  # the task now waits on inner
    inner.set_result("answer")
    task.cancel()
    try:
        return await task
    except asyncio.CancelledError:
        return "cancelled"


@pytest.mark.parametrize("limit", IMPLEMENTATIONS.values(), ids=IMPLEMENTATIONS.keys())
def test_a_cancellation_that_comes_with_the_result_is_kept(limit):
    assert asyncio.run(cancelled_as_the_result_comes(limit)) == "cancelled"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="asyncio.wait_for keeps the cancellation from 3.12 on")
def test_the_same_turn_loses_the_cancellation_with_asyncio_wait_for():
    """The scenario above is the race: ``asyncio.wait_for`` before 3.12 returns the result and the task runs on."""
    assert asyncio.run(cancelled_as_the_result_comes(asyncio.wait_for)) == "answer"


@pytest.mark.parametrize("limit", IMPLEMENTATIONS.values(), ids=IMPLEMENTATIONS.keys())
def test_a_result_within_the_limit_and_a_timeout_past_it(limit):
    async def scenario():
        quick = await limit(asyncio.sleep(0, result="quick"), 5)
        slow = asyncio.ensure_future(asyncio.sleep(5))
        with pytest.raises(asyncio.TimeoutError):
            await limit(slow, 0.01)
        await asyncio.sleep(0)
        return quick, slow.cancelled()

    assert asyncio.run(scenario()) == ("quick", True)


def test_no_limit_awaits_to_the_end():
    assert asyncio.run(within(asyncio.sleep(0.01, result="done"), None)) == "done"


@pytest.mark.parametrize("limit", IMPLEMENTATIONS.values(), ids=IMPLEMENTATIONS.keys())
def test_cancelling_the_caller_cancels_what_it_awaits(limit):
    async def scenario():
        inner = asyncio.ensure_future(asyncio.sleep(5))
        task = asyncio.ensure_future(limit(inner, 5))
        await asyncio.sleep(0)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        return inner.cancelled()

    assert asyncio.run(scenario()) is True
