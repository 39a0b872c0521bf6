"""What the consumer concludes from its first answer for a partition, for the answers Tansu never
gives: real Kafka's "offset out of range" (aiokafka then goes back to the log's start on its own)
and a log start moved past the position by retention (Tansu 0.6 has no DeleteRecords)."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from aiokafka import ConsumerRecord, TopicPartition

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.ports import PositionResetKind
from gql_analytics.settings import Settings
from tests.support import NOW

TP = TopicPartition("events", 0)


class AnsweringConsumer:
    """The few calls the position check makes of aiokafka's consumer, answering for one log."""

    def __init__(self, log_start: int, highwater: int) -> None:
        self.log_start, self.end = log_start, highwater
        self.sought: int | None = None

    def highwater(self, tp: TopicPartition) -> int:
        return self.end

    async def beginning_offsets(self, tps: list[TopicPartition]) -> dict[TopicPartition, int]:
        return dict.fromkeys(tps, self.log_start)

    def seek(self, tp: TopicPartition, offset: int) -> None:
        self.sought = offset


def records(offsets: range) -> list[ConsumerRecord[bytes, bytes]]:
    return [
        ConsumerRecord(TP.topic, TP.partition, o, 0, 0, None, b"{}", None, 0, 2, ())
        for o in offsets
    ]


async def first_answer(
    position: int,
    consumer: AnsweringConsumer,
    fetched: list[ConsumerRecord[bytes, bytes]],
    *,
    mid_stream: bool = False,
) -> tuple[KafkaIngest, dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]]:
    """The check of a fetched batch, ``position`` being where the partition resumed at its
    assignment (or, ``mid_stream``, the next offset to apply of one confirmed long ago)."""
    store = DuckDBStore()
    ingest = kafka_consumer(
        Settings(kafka_bootstrap_servers="unused:9092"), store, InProcessBus(), clock=lambda: NOW
    )
    ingest._through[TP] = position
    if not mid_stream:
        ingest._unconfirmed[TP] = position
    batch = {TP: fetched} if fetched else {}
    await ingest._check_positions(cast(Any, consumer), batch, asyncio.Event())
    return ingest, batch


async def test_records_before_the_position_mean_the_broker_went_back_to_the_start() -> None:
    consumer = AnsweringConsumer(log_start=0, highwater=30)
    ingest, batch = await first_answer(100, consumer, records(range(30)))
    (reset,) = ingest.totals.position_resets
    assert (reset.kind, reset.position, reset.resumed_at) == (PositionResetKind.BEYOND_END, 100, 0)
    assert batch == {}  # fetched again from the start, the store's position moved back first
    assert consumer.sought == 0


async def test_a_log_that_starts_after_the_position_counts_the_records_lost() -> None:
    consumer = AnsweringConsumer(log_start=30, highwater=50)
    ingest, batch = await first_answer(10, consumer, records(range(30, 50)))
    (reset,) = ingest.totals.position_resets
    assert (reset.kind, reset.lost, reset.resumed_at) == (PositionResetKind.BEFORE_START, 20, 30)
    assert [m.offset for m in batch[TP]] == list(range(30, 50))  # applied: all that is left


async def test_a_gap_inside_the_log_is_no_reset() -> None:
    consumer = AnsweringConsumer(log_start=0, highwater=50)  # a transaction marker at offset 10
    ingest, batch = await first_answer(10, consumer, records(range(11, 50)))
    assert ingest.totals.position_resets == []
    assert len(batch[TP]) == 39


async def test_records_before_the_next_offset_mid_stream_are_a_reset_too() -> None:
    consumer = AnsweringConsumer(log_start=0, highwater=30)
    ingest, batch = await first_answer(100, consumer, records(range(30)), mid_stream=True)
    assert [r.kind for r in ingest.totals.position_resets] == [PositionResetKind.BEYOND_END]
    assert batch == {}
    assert consumer.sought == 0
