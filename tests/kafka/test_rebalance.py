"""Where an assigned partition resumes: at the store's position where it is ahead of Kafka's
committed offset (the process died between the two commits), else at that offset."""

from __future__ import annotations

import pytest

from tests.kafka.memory import TOPIC, TP0, consuming, until

RECORD = b'{"event": "view"}'


async def test_an_assigned_partition_resumes_at_the_store_position_where_it_is_ahead() -> None:
    async with consuming(assigned=()) as memory:
        consumer = memory.consumer
        consumer.produce({TP0: [RECORD] * 10})
        consumer.committed_offsets[TP0] = 3
        memory.sink.stored[TOPIC] = {0: 5}
        await consumer.rebalance([TP0])
        await until(lambda: consumer.committed_offsets == {TP0: 10}, "nothing was committed")
    assert "seek events/0:5" in memory.journal
    assert memory.sink.applied == ["events/0:5-9"]


async def test_a_partition_resumes_at_the_committed_offset_where_the_store_is_behind(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with consuming(assigned=()) as memory:
        consumer = memory.consumer
        consumer.produce({TP0: [RECORD] * 10})
        consumer.committed_offsets[TP0] = 6
        memory.sink.stored[TOPIC] = {0: 2}
        await consumer.rebalance([TP0])
        await until(lambda: consumer.committed_offsets == {TP0: 10}, "nothing was committed")
    assert not [line for line in memory.journal if line.startswith("seek")]
    assert memory.sink.applied == ["events/0:6-9"]
    assert "records before it are not in this store" in caplog.text


async def test_a_partition_new_to_both_is_read_from_its_start() -> None:
    async with consuming() as memory:
        memory.consumer.produce({TP0: [RECORD] * 4})
        await until(lambda: memory.sink.applied == ["events/0:0-3"], "nothing was applied")
    assert memory.ingest.totals.position_resets == []
