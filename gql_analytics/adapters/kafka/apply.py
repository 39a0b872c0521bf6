"""The last step of a batch: what is still current of it dead-lettered and applied by the sink,
and only then its offsets committed to Kafka.

The sink commits the records and the partition offsets they reach in one transaction, so the
store, not Kafka, holds the truth: a crash before the offset commit leaves the store ahead, and
the next owner of the partition resumes from the store (``Partitions.assigned``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from aiokafka import OffsetAndMetadata, TopicPartition
from aiokafka.errors import KafkaError
from opentelemetry.trace import Tracer

from gql_analytics.adapters.kafka.batches import Prepared, message_batch
from gql_analytics.adapters.kafka.clients import Consumer, Producer
from gql_analytics.adapters.kafka.dead_letters import dead_letters, send_dead_letters
from gql_analytics.adapters.kafka.partitions import Partitions
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.domain.records import SourcePosition
from gql_analytics.observability.tracing import consumed
from gql_analytics.ports import IngestTotals, MessageSink

log = logging.getLogger(__name__)


class Applier:
    """Applies prepared batches, one at a time, in the order it is given them; each is a span,
    linked to the spans that produced its messages (their ``traceparent`` headers)."""

    def __init__(
        self,
        sink: MessageSink[Any],
        partitions: Partitions,
        *,
        dlq_suffix: str,
        retry: Retry,
        clock: Callable[[], datetime],
        totals: IngestTotals,
        tracer: Tracer,
    ) -> None:
        self._sink = sink
        self._partitions = partitions
        self._dlq_suffix = dlq_suffix
        self._retry = retry
        self._clock = clock
        self._totals = totals
        self._tracer = tracer

    async def apply(
        self, consumer: Consumer, producer: Producer, ready: Prepared, stopping: asyncio.Event
    ) -> None:
        batch = ready.fetched.records
        headers = [message.headers for messages in batch.values() for message in messages]
        with consumed(self._tracer, (tp.topic for tp in batch), headers):
            await self._apply(consumer, producer, ready, stopping)

    async def _apply(
        self, consumer: Consumer, producer: Producer, ready: Prepared, stopping: asyncio.Event
    ) -> None:
        prepared, batch = ready.prepared, ready.fetched.records
        async with self._partitions.in_flight:
            current = self._partitions.current(ready.fetched)
            if len(current) < len(batch):
                await self._sink.discard(prepared)
                if not current:
                    return
                batch = current
                prepared = await self._retry.call(
                    lambda: self._sink.prepare(message_batch(current)),
                    "prepare a batch",
                    stopping,
                )
            # Poison is dead-lettered (and acknowledged by the broker) before the rest is applied.
            dead = dead_letters(batch, prepared.rejected)
            if dead:
                await self._retry.call(
                    lambda: send_dead_letters(producer, dead, self._dlq_suffix),
                    "dead-letter the poison",
                    stopping,
                )
            result = await self._retry.call(
                lambda: self._sink.apply(prepared), "apply the batch", stopping
            )
            positions = prepared.batch.positions
        now = self._clock()
        totals = self._totals
        totals.applied += result.applied
        totals.duplicates += result.duplicates
        totals.dead_lettered += len(dead)
        for position in positions:
            totals.last_applied_at[(position.source, position.partition)] = now
        self._partitions.applied(positions)
        await commit(consumer, positions)
        log.info(
            "kafka: batch applied=%d duplicates=%d dead_lettered=%d; totals applied=%d "
            "duplicates=%d dead_lettered=%d",
            result.applied,
            result.duplicates,
            len(dead),
            totals.applied,
            totals.duplicates,
            totals.dead_lettered,
        )


async def commit(consumer: Consumer, positions: Sequence[SourcePosition]) -> None:
    """Commits the positions the store has committed already."""
    try:
        await consumer.commit(
            {
                TopicPartition(p.source, p.partition): OffsetAndMetadata(p.next_offset, "")
                for p in positions
            }
        )
    except KafkaError as error:
        # The store holds the positions; a new owner of the partition resumes from them.
        log.info("kafka: offset commit skipped (%s); the store has the positions", error)
