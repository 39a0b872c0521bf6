"""The consumer's pipeline on an in-memory broker (no broker process): the order batches are
applied in, how many are in flight, and what a rebalance or a seek makes of the batches fetched
before it."""

from __future__ import annotations

import asyncio

from gql_analytics.adapters.kafka.scheduler import PREPARING
from tests.kafka.memory import TP0, TP1, Memory, consuming, until
from tests.support import within

RECORD = b'{"event": "view"}'


async def test_batches_are_applied_in_the_order_they_were_fetched() -> None:
    async with consuming(max_records=10) as memory:
        sink = memory.sink
        sink.prepares.count = 3
        memory.consumer.produce({TP0: [RECORD] * 30})
        await until(lambda: len(sink.prepares.waiting) == 3, "three batches were not prepared")
        first, second, third = sink.prepares.waiting
        third.set()
        await until(lambda: sink.preparing == 2, "the third batch was not prepared")
        second.set()
        await until(lambda: sink.preparing == 1, "the second batch was not prepared")
        assert sink.applied == []  # the first batch is not prepared yet
        first.set()
        await until(lambda: len(sink.applied) == 3, "the batches were not applied")
    assert sink.applied == ["events/0:0-9", "events/0:10-19", "events/0:20-29"]


async def test_a_fourth_batch_is_fetched_but_not_prepared_while_three_are() -> None:
    async with consuming(max_records=10) as memory:
        sink = memory.sink
        sink.prepares.count = PREPARING
        memory.consumer.produce({TP0: [RECORD] * 50})

        def three_preparing_and_a_fourth_fetched() -> bool:
            return len(sink.prepares.waiting) == PREPARING and memory.consumer.answers == 4

        await until(three_preparing_and_a_fourth_fetched, "the pipeline did not fill")
        assert sink.prepared == ["events/0:0-9", "events/0:10-19", "events/0:20-29"]
        sink.prepares.waiting[0].set()
        await until(lambda: len(sink.prepared) == 4, "the fourth batch was not prepared")
        for gate in sink.prepares.waiting:
            gate.set()
        await until(lambda: len(sink.applied) == 5, "the batches were not applied")
    assert sink.most_preparing == PREPARING
    assert sink.applied == [f"events/0:{n}-{n + 9}" for n in range(0, 50, 10)]


async def test_a_batch_fetched_before_a_rebalance_is_dropped() -> None:
    async with consuming() as memory:
        sink, consumer = memory.sink, memory.consumer
        sink.prepares.count = 1
        consumer.produce({TP0: [RECORD] * 5})
        await until(lambda: len(sink.prepares.waiting) == 1, "the batch was not prepared")
        await consumer.rebalance([TP0])  # nothing committed: read again from the start
        sink.prepares.waiting[0].set()
        await until(lambda: consumer.committed_offsets == {TP0: 5}, "nothing was committed")
    assert sink.discarded == ["events/0:0-4"]
    assert sink.prepared == ["events/0:0-4", "events/0:0-4"]  # fetched again after the rebalance
    assert sink.applied == ["events/0:0-4"]


async def test_a_partition_sought_after_its_batch_arrived_is_dropped_and_the_rest_prepared_again() -> (
    None
):
    async with consuming([TP0, TP1]) as memory:
        sink, consumer = memory.sink, memory.consumer
        consumer.produce({TP1: [RECORD] * 10})
        await until(lambda: sink.applied == ["events/1:0-9"], "the first batch was not applied")
        sink.prepares.count = 1
        consumer.produce({TP0: [RECORD] * 5, TP1: [RECORD] * 5})
        await until(lambda: len(sink.prepares.waiting) == 1, "the batch was not prepared")
        # Partition 1 is recreated under the consumer: the next fetch finds it reset and seeks
        # it to its start, after the batch above arrived.
        consumer.recreate(TP1, [RECORD] * 3)
        await until(lambda: len(memory.ingest.totals.position_resets) == 1, "no reset found")
        sink.prepares.waiting[0].set()
        await until(lambda: consumer.committed_offsets == {TP0: 5, TP1: 3}, "not committed")
    assert sink.discarded == ["events/0:0-4 events/1:10-14"]
    assert sink.applied == ["events/1:0-9", "events/0:0-4", "events/1:0-2"]


async def test_a_revocation_waits_for_the_batch_being_applied() -> None:
    async with consuming() as memory:
        sink, consumer = memory.sink, memory.consumer
        sink.applies.count = 1
        consumer.produce({TP0: [RECORD] * 5})
        await until(lambda: len(sink.applies.waiting) == 1, "the batch was not applied")
        rebalancing = asyncio.create_task(consumer.rebalance([TP0]))
        journal = memory.journal  # "revoking", "revoked" on the way in: the first assignment
        await until(lambda: journal.count("revoking") == 2, "the group did not rebalance")
        assert journal.count("revoked") == 1
        sink.applies.waiting[0].set()
        await within(rebalancing)
    assert "revoked" in journal[journal.index("apply events/0:0-4") :]
    assert sink.applied == ["events/0:0-4"]


async def test_with_stop_at_end_the_consumer_stops_once_every_partition_is_read() -> None:
    memory = Memory(max_records=10, stop_at_end=True)
    memory.consumer.produce({TP0: [RECORD] * 25, TP1: [RECORD] * 3})
    running = memory.run()
    await within(memory.ingest.started.wait())
    await memory.consumer.rebalance([TP0, TP1])
    await within(running)
    assert memory.consumer.committed_offsets == {TP0: 25, TP1: 3}
    assert memory.consumer.stopped
    assert memory.producer.stopped
