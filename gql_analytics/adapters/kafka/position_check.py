"""Whether a partition's log holds the position the consumer resumed at, told by the broker's
first answer for it, and what is done when it does not (a ``PositionReset``)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from datetime import datetime

from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from gql_analytics.adapters.kafka.clients import Consumer, Records
from gql_analytics.adapters.kafka.partitions import Partitions
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.ports import PositionKeeper, PositionReset, PositionResetKind

log = logging.getLogger(__name__)


class PositionCheck:
    """Checks fetched batches against the ``Partitions``' unconfirmed positions. A log that ends
    before the position (topic recreated, broker data lost) is BEYOND_END: with ``on_reset``
    "earliest" the store's position moves back (``PositionKeeper.rewind``) and the partition is
    read again from its start; with "pause" it waits for an operator. A log that starts after
    the position (retention) is BEFORE_START: the records lost are counted, reading goes on.
    Every reset found is appended to ``resets`` (the consumer's totals)."""

    def __init__(
        self,
        partitions: Partitions,
        store: PositionKeeper,
        *,
        on_reset: str,
        clock: Callable[[], datetime],
        retry: Retry,
        resets: list[PositionReset],
    ) -> None:
        self._partitions = partitions
        self._store = store
        self._on_reset = on_reset
        self._clock = clock
        self._retry = retry
        self._resets = resets

    async def check(self, consumer: Consumer, batch: Records, stopping: asyncio.Event) -> None:
        """Records the resets ``batch`` shows, from its records (a first offset before the
        position: the broker found it out of range and aiokafka went back to the start) or, for
        a partition without any, its high watermark (Tansu answers a fetch past the end with
        nothing until the log grows past it). Records before the next offset to apply,
        mid-stream, are the same sign. The records of a partition reset BEYOND_END are taken
        out of ``batch``."""
        partitions = self._partitions
        for tp, fetched in batch.items():
            if fetched and fetched[0].offset < partitions.next_offset(tp):
                partitions.suspect(tp)  # aiokafka went back by itself
        for tp, position in list(partitions.unconfirmed.items()):
            messages = batch.get(tp)
            end = consumer.highwater(tp)
            try:
                if messages:
                    first = messages[0].offset
                    if first < position:
                        kind = PositionResetKind.BEYOND_END
                    elif first > position and await _log_start(consumer, tp) > position:
                        kind = PositionResetKind.BEFORE_START
                    else:
                        partitions.confirm(tp)
                        continue
                elif end is None:
                    continue  # no answer for it yet
                elif end < position:
                    kind = PositionResetKind.BEYOND_END
                else:
                    partitions.confirm(tp)
                    continue
                reset = await self._reset(consumer, tp, kind, position, end, stopping)
            except KafkaError as error:  # its log start not told: checked again, refetched
                log.warning("kafka: %s: position not checked (%s)", tp, error)
                if messages:  # the latest batch: no later one was fetched past these
                    consumer.seek(tp, messages[0].offset)
                    del batch[tp]
                continue
            partitions.confirm(tp)
            self._resets.append(reset)
            if kind is PositionResetKind.BEYOND_END:
                batch.pop(tp, None)  # fetched again from where it resumes (or paused)

    async def _reset(
        self,
        consumer: Consumer,
        tp: TopicPartition,
        kind: PositionResetKind,
        position: int,
        end: int | None,
        stopping: asyncio.Event,
    ) -> PositionReset:
        start = await _log_start(consumer, tp)
        if kind is PositionResetKind.BEFORE_START:
            log.error(
                "kafka: %s: records %d to %d were deleted (retention) before they were applied: "
                "%d lost; reading on from %d",
                tp,
                position,
                start - 1,
                start - position,
                start,
            )
            return PositionReset(
                tp.topic, tp.partition, kind, position, start, end, start, self._clock()
            )
        why = (
            f"kafka: {tp}: its log ends at {end}, before the position {position} this consumer "
            "resumed at: the topic was recreated or the broker lost its data"
        )
        if self._on_reset == "pause":
            consumer.pause(tp)
            log.error("%s; paused (--kafka-on-position-reset pause) for an operator", why)
            return PositionReset(
                tp.topic, tp.partition, kind, position, start, end, None, self._clock()
            )
        async with self._partitions.in_flight:  # no batch is applied while the position moves
            await self._retry.call(
                lambda: self._store.rewind(tp.topic, tp.partition, start),
                "rewind a reset partition",
                stopping,
            )
            self._partitions.read_again(consumer, tp, start)
        log.error(
            "%s; reading it again from its start, %d (records are counted once by id)", why, start
        )
        return PositionReset(
            tp.topic, tp.partition, kind, position, start, end, start, self._clock()
        )


async def _log_start(consumer: Consumer, tp: TopicPartition) -> int:
    return (await consumer.beginning_offsets([tp]))[tp]
