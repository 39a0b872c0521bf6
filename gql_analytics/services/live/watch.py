"""Live values: recompute on relevant changes, push only what changed, at a bounded rate."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from gql_analytics.ports import Change

T = TypeVar("T")


async def watch(
    compute: Callable[[], Awaitable[T]],
    changes: AsyncIterator[Change],
    relevant: Callable[[Change], bool],
    *,
    throttle: timedelta,
    next_tick: Callable[[], float | None] = lambda: None,
) -> AsyncGenerator[T, None]:
    """Yield ``compute()`` at once, then again each time its value differs from the last one sent.

    It is recomputed when a relevant change arrives or ``next_tick()`` seconds pass (a sliding
    window crossing a bucket boundary). Changes arriving within ``throttle`` of a message are
    coalesced into the next one, so a subscriber gets at most one message per ``throttle``.
    """
    dirty = asyncio.Event()

    async def listen() -> None:
        async for change in changes:
            if relevant(change):
                dirty.set()

    listener = asyncio.create_task(listen())
    try:
        sent: list[T] = []
        while True:
            dirty.clear()
            value = await compute()
            if not sent or value != sent[0]:
                sent[:] = [value]
                yield value
                await asyncio.sleep(throttle.total_seconds())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(dirty.wait(), next_tick())
    finally:
        listener.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await listener


def seconds_to_next_minute(now: datetime) -> float:
    into_minute = now.second + now.microsecond / 1e6
    return 60.0 - into_minute
