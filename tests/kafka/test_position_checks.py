"""What the consumer concludes from its first answer for a partition, for the answers Tansu never
gives: real Kafka's "offset out of range" (aiokafka then goes back to the log's start on its own)
and a log start moved past the position by retention (Tansu 0.6 has no DeleteRecords); and the
answer Tansu gives past a log's end (nothing, and a high watermark below the position)."""

from __future__ import annotations

import asyncio

from gql_analytics.adapters.kafka.clients import Records
from gql_analytics.adapters.kafka.partitions import Partitions
from gql_analytics.adapters.kafka.position_check import PositionCheck
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.domain.records import SourcePosition
from gql_analytics.ports import PositionReset, PositionResetKind
from tests.kafka.memory import TOPIC, TP0, MemoryConsumer, MemorySink, no_wait, record
from tests.support import NOW

RECORD = b'{"event": "view"}'


class FirstAnswer:
    """A partition of ``size`` records (the first ``deleted`` of them deleted by retention),
    checked as the consumer checks its fetches."""

    def __init__(
        self, size: int, *, deleted: int = 0, on_reset: str = "earliest", as_tansu: bool = False
    ) -> None:
        self.journal: list[str] = []
        self.consumer = MemoryConsumer(self.journal, as_tansu=as_tansu)
        self.consumer.produce({TP0: [RECORD] * size})
        self.consumer.delete_before(TP0, deleted)
        self.store = MemorySink(self.journal)
        self.partitions = Partitions(self.store)
        self.resets: list[PositionReset] = []
        self.check = PositionCheck(
            self.partitions,
            self.store,
            on_reset=on_reset,
            clock=lambda: NOW,
            retry=Retry(pause=no_wait),
            resets=self.resets,
        )

    async def resumed_at(self, position: int, *, mid_stream: bool = False) -> Records:
        """The batch fetched from ``position``, where the partition resumed at its assignment
        (or, ``mid_stream``, the next offset to apply of one confirmed long ago), checked."""
        await self.consumer.rebalance([TP0])
        if mid_stream:
            self.partitions.applied([SourcePosition(TOPIC, 0, position)])
        else:
            self.partitions.resumed(TP0, position)
        self.consumer.seek(TP0, position)
        batch = await self.consumer.getmany(timeout_ms=0)
        await self.check.check(self.consumer, batch, asyncio.Event())
        return batch


async def test_records_before_the_position_mean_the_broker_went_back_to_the_start() -> None:
    answer = FirstAnswer(30)
    batch = await answer.resumed_at(100)
    (reset,) = answer.resets
    assert (reset.kind, reset.position, reset.resumed_at) == (PositionResetKind.BEYOND_END, 100, 0)
    assert batch == {}  # fetched again from the start, the store's position moved back first
    assert answer.journal[-2:] == ["rewind events/0:0", "seek events/0:0"]
    assert answer.partitions.next_offset(TP0) == 0
    assert answer.partitions.unconfirmed == {}


async def test_a_log_that_starts_after_the_position_counts_the_records_lost() -> None:
    answer = FirstAnswer(50, deleted=30)
    batch = await answer.resumed_at(10)
    (reset,) = answer.resets
    assert (reset.kind, reset.lost, reset.resumed_at) == (PositionResetKind.BEFORE_START, 20, 30)
    assert [m.offset for m in batch[TP0]] == list(range(30, 50))  # applied: all that is left


async def test_a_gap_inside_the_log_is_no_reset() -> None:
    answer = FirstAnswer(50)  # a transaction marker at offset 10
    answer.partitions.resumed(TP0, 10)
    batch = {TP0: [record(TP0, offset, RECORD) for offset in range(11, 50)]}
    await answer.check.check(answer.consumer, batch, asyncio.Event())
    assert answer.resets == []
    assert len(batch[TP0]) == 39
    assert answer.partitions.unconfirmed == {}


async def test_records_before_the_next_offset_mid_stream_are_a_reset_too() -> None:
    answer = FirstAnswer(30)
    batch = await answer.resumed_at(100, mid_stream=True)
    assert [r.kind for r in answer.resets] == [PositionResetKind.BEYOND_END]
    assert batch == {}
    assert answer.journal[-1] == "seek events/0:0"


async def test_a_log_that_ends_before_the_position_with_nothing_fetched_is_a_reset() -> None:
    answer = FirstAnswer(30, as_tansu=True)
    batch = await answer.resumed_at(100)
    (reset,) = answer.resets
    assert (reset.kind, reset.log_end, reset.resumed_at) == (PositionResetKind.BEYOND_END, 30, 0)
    assert batch == {}
    assert answer.store.stored == {TOPIC: {0: 0}}


async def test_a_position_the_log_holds_is_confirmed() -> None:
    answer = FirstAnswer(200)
    batch = await answer.resumed_at(100)
    assert answer.resets == []
    assert [m.offset for m in batch[TP0]] == list(range(100, 200))
    assert answer.partitions.unconfirmed == {}


async def test_with_the_pause_policy_a_reset_partition_waits_for_an_operator() -> None:
    answer = FirstAnswer(30, on_reset="pause")
    batch = await answer.resumed_at(100)
    (reset,) = answer.resets
    assert (reset.kind, reset.resumed_at) == (PositionResetKind.BEYOND_END, None)
    assert batch == {}
    assert await answer.consumer.getmany(timeout_ms=0) == {}  # paused
    assert answer.store.stored == {}  # the store's position stays where it was
