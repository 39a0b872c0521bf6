"""The consumer's one retry policy: back off while the store or the broker is away, and give up
at once when asked to stop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import TypeVar

from aiokafka.errors import KafkaError

from gql_analytics.errors import GatewayError

log = logging.getLogger(__name__)
T = TypeVar("T")

Pause = Callable[[asyncio.Event, timedelta], Awaitable[bool]]
"""Waits a delay between attempts, or less if the event is set first; whether it is set."""


async def stopped_within(stopping: asyncio.Event, delay: timedelta) -> bool:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), delay.total_seconds())
    return stopping.is_set()


def retriable(error: Exception) -> bool:
    """Worth another attempt: any broker error, and a gateway error marked retriable (the store
    did not answer)."""
    if isinstance(error, GatewayError):
        return error.retriable
    return isinstance(error, KafkaError)


@dataclass(frozen=True, slots=True)
class Retry:
    """Attempts an operation until it succeeds, waiting ``first`` after the first failure and
    twice as long after each next one, up to ``most``. An error that is not ``retriable``, or a
    stop asked for before or during a wait, ends the attempts with that error. Nothing is
    committed to Kafka meanwhile, so a batch is never skipped. ``pause`` does the waiting (a
    test passes one that does not wait)."""

    first: timedelta = timedelta(milliseconds=100)
    most: timedelta = timedelta(seconds=5)
    pause: Pause = stopped_within

    async def call(
        self, operation: Callable[[], Awaitable[T]], what: str, stopping: asyncio.Event
    ) -> T:
        delay = self.first
        while True:
            try:
                return await operation()
            except (GatewayError, KafkaError) as error:
                if not retriable(error):
                    raise
                log.warning("kafka: could not %s (%s); retrying", what, error)
                if await self.pause(stopping, delay):
                    raise
                delay = min(delay * 2, self.most)
