"""One computation per question, however many subscribers; the latest value for a slow one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from gql_analytics.services.live.fanout import Feeds
from tests.support import eventually, within


class Source:
    """Values sent by the test, counting how often the computation was started and stopped."""

    def __init__(self) -> None:
        self.started = 0
        self.stopped = 0
        self.queue: asyncio.Queue[int | Exception] = asyncio.Queue()

    def __call__(self) -> AsyncIterator[int]:
        return self._values()

    async def _values(self) -> AsyncIterator[int]:
        self.started += 1
        try:
            while True:
                value = await self.queue.get()
                if isinstance(value, Exception):
                    raise value
                yield value
        finally:
            self.stopped += 1


async def test_subscribers_of_one_question_share_one_computation() -> None:
    feeds, source = Feeds(), Source()
    async with feeds.join("q", source) as first, feeds.join("q", source) as second:
        source.queue.put_nowait(1)
        assert await within(anext(first)) == 1
        assert await within(anext(second)) == 1
        async with feeds.join("other", source) as third:
            source.queue.put_nowait(2)
            assert await within(anext(third)) == 2
        assert source.started == 2  # one for "q", one for "other"
        assert len(feeds) == 1


async def test_a_subscriber_who_joins_gets_the_latest_value_at_once() -> None:
    feeds, source = Feeds(), Source()
    async with feeds.join("q", source) as first:
        source.queue.put_nowait(7)
        assert await within(anext(first)) == 7
        async with feeds.join("q", source) as late:
            assert await within(anext(late)) == 7
    assert source.started == 1


async def test_a_slow_subscriber_gets_the_latest_value_not_a_backlog() -> None:
    feeds, source = Feeds(), Source()
    async with feeds.join("q", source) as fast, feeds.join("q", source) as slow:
        for value in range(1, 101):
            source.queue.put_nowait(value)
            assert await within(anext(fast)) == value  # never held up by the slow one
        assert await within(anext(slow)) == 100
        source.queue.put_nowait(101)
        assert await within(anext(slow)) == 101


async def test_the_last_subscriber_to_leave_stops_the_computation() -> None:
    feeds, source = Feeds(), Source()

    async def started() -> bool:
        return source.started == 1

    async with feeds.join("q", source):
        await eventually(started, "the computation did not start")
        async with feeds.join("q", source):
            pass
        assert source.stopped == 0
    assert (source.started, source.stopped, len(feeds)) == (1, 1, 0)
    async with feeds.join("q", source) as again:
        source.queue.put_nowait(1)
        assert await within(anext(again)) == 1
        assert source.started == 2  # a new subscriber starts it again


async def test_a_failing_computation_reaches_every_subscriber() -> None:
    feeds, source = Feeds(), Source()
    async with feeds.join("q", source) as first, feeds.join("q", source) as second:
        source.queue.put_nowait(RuntimeError("store down"))
        for values in (first, second):
            with pytest.raises(RuntimeError, match="store down"):
                await within(anext(values))


async def test_a_feed_that_ends_gives_every_subscriber_its_last_value_then_ends() -> None:
    feeds = Feeds()

    async def answers() -> AsyncIterator[int]:
        for value in (1, 2, 3):
            yield value

    async def all_of(values: AsyncIterator[int]) -> list[int]:
        return [value async for value in values]

    async with feeds.join("q", answers) as first, feeds.join("q", answers) as second:
        for values in (first, second):
            assert (await within(all_of(values)))[-1] == 3


async def test_a_subscriber_may_take_values_straight_from_the_feed() -> None:
    feeds, source = Feeds(), Source()
    taken: list[int] = []

    def take_even(value: int) -> bool:
        if value % 2:
            return False
        taken.append(value)
        return True

    async with feeds.join("q", source, take=take_even) as values:
        for value in (2, 3, 4):
            source.queue.put_nowait(value)
        assert await within(anext(values)) == 3  # the one it did not take
        await eventually(lambda: _is(taken, [2, 4]), "the even values were not taken")


async def _is(found: list[int], expected: list[int]) -> bool:
    return found == expected
