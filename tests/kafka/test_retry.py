"""The consumer's one retry policy: it backs off, gives up on what retrying cannot mend, and
stops at once when asked to."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.errors import InvalidInput, StoreUnavailable
from tests.support import eventually, within

FOREVER = timedelta(hours=1)  # a wait no test sees the end of


class Failing:
    """An operation that fails ``times`` times (for ever by default), then answers."""

    def __init__(self, error: Exception, times: int = 1_000_000) -> None:
        self.error, self.times, self.attempts = error, times, 0

    async def __call__(self) -> str:
        self.attempts += 1
        if self.attempts <= self.times:
            raise self.error
        return "done"


async def test_the_wait_doubles_after_each_failure_up_to_the_most() -> None:
    waits: list[float] = []

    async def recorded(stopping: asyncio.Event, delay: timedelta) -> bool:
        waits.append(delay.total_seconds())
        return False

    retry = Retry(first=timedelta(seconds=0.1), most=timedelta(seconds=1), pause=recorded)
    operation = Failing(StoreUnavailable("store: restarting"), times=6)
    assert await retry.call(operation, "apply the batch", asyncio.Event()) == "done"
    assert waits == [0.1, 0.2, 0.4, 0.8, 1.0, 1.0]


async def test_an_error_retrying_cannot_mend_ends_the_attempts_at_once() -> None:
    operation = Failing(InvalidInput("bad"))
    with pytest.raises(InvalidInput):
        await Retry(first=FOREVER).call(operation, "apply the batch", asyncio.Event())
    assert operation.attempts == 1


async def test_a_stop_asked_for_during_a_wait_ends_the_attempts_with_the_error() -> None:
    stopping = asyncio.Event()
    operation = Failing(StoreUnavailable("store: restarting"))
    attempts = asyncio.create_task(Retry(first=FOREVER).call(operation, "apply", stopping))

    async def attempted() -> bool:
        return operation.attempts == 1

    await eventually(attempted, "no attempt was made")
    stopping.set()
    with pytest.raises(StoreUnavailable):
        await within(attempts)
    assert operation.attempts == 1
