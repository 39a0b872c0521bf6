"""The consumer's one retry policy: it backs off, gives up on what retrying cannot mend, and
stops at once when asked to."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from aiokafka.errors import KafkaConnectionError

from gql_analytics.adapters.kafka.clients import Clients, Listening
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.errors import InvalidInput, StoreUnavailable
from tests.kafka.memory import TP0, Memory, consuming, until
from tests.support import within

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
    await until(lambda: operation.attempts == 1, "no attempt was made")
    stopping.set()
    with pytest.raises(StoreUnavailable):
        await within(attempts)
    assert operation.attempts == 1


async def test_the_consumer_connects_once_the_broker_answers() -> None:
    connecting = Failing(KafkaConnectionError("no broker"), times=3)
    memory: Memory

    async def open_clients(listening: Listening) -> Clients:
        await connecting()
        return await memory.open_clients(listening)

    memory = Memory(clients=open_clients)
    running = memory.run()
    await within(memory.ingest.started.wait())
    assert connecting.attempts == 4
    memory.stopping.set()
    await within(running)


async def test_a_consumer_that_cannot_reach_the_broker_stops_when_asked() -> None:
    connecting = Failing(KafkaConnectionError("no broker"))

    async def open_clients(listening: Listening) -> Clients:
        await connecting()
        raise AssertionError("unreachable")

    memory = Memory(clients=open_clients, retry=Retry(first=FOREVER))
    running = memory.run()
    await until(lambda: connecting.attempts == 1, "no attempt to connect was made")
    memory.stopping.set()
    await within(running)  # returns: nothing to stop, nothing to report
    assert not memory.ingest.started.is_set()
    assert connecting.attempts == 1


async def test_a_batch_the_store_keeps_refusing_is_given_up_uncommitted_when_asked_to_stop() -> (
    None
):
    memory = Memory(retry=Retry(first=FOREVER))
    memory.sink.failures = 1_000_000
    running = memory.run()
    await within(memory.ingest.started.wait())
    await memory.consumer.rebalance([TP0])
    memory.consumer.produce({TP0: [b"{}"] * 5})
    await until(lambda: "apply failed events/0:0-4" in memory.journal, "nothing was applied")
    memory.stopping.set()
    with pytest.raises(StoreUnavailable):
        await within(running)
    assert memory.consumer.committed_offsets == {}
    assert memory.journal.count("apply failed events/0:0-4") == 1
    assert memory.consumer.stopped
    assert memory.producer.stopped


async def test_a_preparation_that_fails_is_attempted_again() -> None:
    async with consuming() as memory:
        memory.sink.prepare_failures = 2
        memory.consumer.produce({TP0: [b"{}"] * 5})
        await until(lambda: memory.consumer.committed_offsets == {TP0: 5}, "not committed")
    assert memory.journal[-4:] == [
        "prepare failed events/0:0-4",
        "prepare failed events/0:0-4",
        "apply events/0:0-4",
        "commit events/0:5",
    ]
