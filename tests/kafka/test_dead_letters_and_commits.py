"""What the consumer does with a prepared batch, on an in-memory broker: poison dead-lettered
and acknowledged first, then the batch applied, and only then its offsets committed."""

from __future__ import annotations

from tests.kafka.memory import POISON, TP0, consuming, until

RECORD = b'{"event": "view"}'


async def test_poison_is_dead_lettered_and_acknowledged_before_the_batch_is_applied() -> None:
    async with consuming() as memory:
        memory.consumer.produce({TP0: [RECORD, POISON, RECORD]})
        await until(lambda: memory.consumer.committed_offsets == {TP0: 3}, "not committed")
    assert memory.journal[-4:] == [
        "send events.dlq events/0/1",
        "acknowledged events/0/1",
        "apply events/0:0-2",
        "commit events/0:3",
    ]
    ((topic, value, key, headers),) = memory.producer.sent
    assert (topic, value, key) == ("events.dlq", POISON, b"events/0/1")
    assert headers["dlq.reason"] == b"not_json"
    assert (headers["dlq.topic"], headers["dlq.partition"], headers["dlq.offset"]) == (
        b"events",
        b"0",
        b"1",
    )
    totals = memory.ingest.totals
    assert (totals.applied, totals.dead_lettered) == (2, 1)


async def test_offsets_are_committed_only_after_the_sink_applied() -> None:
    async with consuming() as memory:
        memory.sink.failures = 2  # the store does not answer twice
        memory.consumer.produce({TP0: [RECORD] * 5})
        await until(lambda: memory.consumer.committed_offsets == {TP0: 5}, "not committed")
    assert memory.journal[-4:] == [
        "apply failed events/0:0-4",
        "apply failed events/0:0-4",
        "apply events/0:0-4",
        "commit events/0:5",
    ]
    assert memory.sink.stored == {"events": {0: 5}}


async def test_a_batch_held_by_the_store_is_neither_committed_nor_counted() -> None:
    async with consuming() as memory:
        memory.sink.applies.count = 1
        memory.consumer.produce({TP0: [RECORD] * 5})
        await until(lambda: len(memory.sink.applies.waiting) == 1, "the batch was not applied")
        assert memory.consumer.committed_offsets == {}
        assert memory.ingest.totals.applied == 0
        assert memory.ingest.lag() == {("events", 0): 5}
        memory.sink.applies.waiting[0].set()
        await until(lambda: memory.consumer.committed_offsets == {TP0: 5}, "not committed")
        assert memory.ingest.lag() == {("events", 0): 0}
    assert memory.ingest.totals.applied == 5
