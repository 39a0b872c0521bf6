"""The Kafka consumer: a consumer-group member that applies its partitions to the store.

Delivery is at least once; the effect is exactly once. Each batch from ``getmany`` goes to the
ingest layer raw (a ``MessageSink``): ``prepare`` decodes and validates it (DuckDB does that in
SQL), its poison is dead-lettered (and acknowledged by the broker), then ``apply`` commits its
records and the partition offsets it covers in one transaction, and publishes what changed. Only after that are the offsets
committed to Kafka. Each applied batch is a span, linked to the spans that produced its
messages (their ``traceparent`` headers). A crash between the two leaves the store ahead of Kafka: on
(re)assignment the consumer seeks to the store's positions, and redelivered records keep their ids
(from the message, or topic:partition:offset@timestamp) so the store counts them once anyway.

A position the partition's log does not hold is never skipped silently. The first answer for a
partition after its assignment tells: a log that ends before it (the topic was recreated, the
broker lost its data) is a ``PositionReset`` BEYOND_END, read again from the log's start
(``--kafka-on-position-reset earliest``: records with ids of their own are counted once) or
paused for an operator (``pause``); a log that starts after it (retention deleted records not yet
applied) is one BEFORE_START, whose lost records are counted. Either is logged as an error,
counted in /metrics and shown by ``ingestStatus``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from aiokafka import (
    AIOKafkaConsumer,
    AIOKafkaProducer,
    ConsumerRebalanceListener,
    ConsumerRecord,
    OffsetAndMetadata,
    TopicPartition,
)
from aiokafka.errors import KafkaError
from opentelemetry.trace import NoOpTracer, Tracer

from gql_analytics.adapters.kafka import new_producer
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.observability.tracing import consumed
from gql_analytics.ports import (
    IngestTotals,
    MessageBatch,
    MessageSink,
    PartitionMessages,
    PartitionStatus,
    PositionKeeper,
    PositionReset,
    PositionResetKind,
    PreparedBatch,
    Rejection,
)

log = logging.getLogger(__name__)
PREPARING = 3  # batches prepared at once, ahead of the one applied
# How long the broker may hold a fetch that found nothing new: the longest a record can wait to
# be fetched. aiokafka's 500 ms put a record 124 ms (median) behind at 100 records a second on
# Tansu; 50 ms, 58 ms. Live counts are what the difference is for.
FETCH_WAIT_MS = 50


@dataclass(frozen=True, slots=True)
class _Fetched:
    """A batch, with what had happened when it arrived: the rebalances (``generation``) and the
    seeks to the store's positions of each of its partitions (``seeks``)."""

    generation: int
    seeks: dict[TopicPartition, int]
    batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]


@dataclass(frozen=True, slots=True)
class _Prepared:
    fetched: _Fetched
    prepared: PreparedBatch


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: ConsumerRecord[bytes, bytes]
    reason: str
    detail: str


_OFFSET, _TIMESTAMP, _VALUE = (operator.attrgetter(a) for a in ("offset", "timestamp", "value"))


def message_batch(
    batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
) -> MessageBatch:
    """A fetched batch, column by column, as a ``MessageSink`` takes it."""
    return MessageBatch(
        [
            PartitionMessages(
                topic=tp.topic,
                partition=tp.partition,
                offsets=list(map(_OFFSET, messages)),
                timestamps=list(map(_TIMESTAMP, messages)),
                values=list(map(_VALUE, messages)),
            )
            for tp, messages in batch.items()
            if messages
        ]
    )


def _dead_letters(
    batch: Mapping[TopicPartition, Sequence[ConsumerRecord[bytes, bytes]]],
    rejected: Sequence[Rejection],
) -> list[DeadLetter]:
    if not rejected:
        return []
    by_key = {(m.topic, m.partition, m.offset): m for ms in batch.values() for m in ms}
    return [DeadLetter(by_key[r.key], r.reason, r.detail) for r in rejected]


class KafkaIngest:
    def __init__(
        self,
        sink: MessageSink[Any],
        positions: PositionKeeper,
        options: KafkaOptions,
        *,
        clock: Callable[[], datetime],
        max_records: int = 20_000,
        stop_at_end: bool = False,
        tracer: Tracer | None = None,
        retry: Retry | None = None,
    ) -> None:
        self._sink = sink
        self._retry = retry or Retry()
        self._store = positions
        self._tracer = tracer or NoOpTracer()
        self._options = options
        self._clock = clock
        self._max_records = max_records
        self._stop_at_end = stop_at_end
        self._in_flight = asyncio.Lock()
        self._generation = 0  # rebalances seen
        self._seeks: dict[TopicPartition, int] = {}  # seeks to the store's positions, per partition
        self._through: dict[TopicPartition, int] = {}  # next offset to apply, per partition
        # Positions resumed at on assignment that the broker has not yet shown its log holds.
        self._unconfirmed: dict[TopicPartition, int] = {}
        self._consumer: AIOKafkaConsumer[bytes, bytes] | None = None
        self.totals = IngestTotals()
        self.started = asyncio.Event()

    # -- the loop -------------------------------------------------------------------------------

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set (or, with ``stop_at_end``, until every assigned
        partition is read to its end); then finish the batch, commit and leave the group."""
        clients = await self._connect(stopping)
        if clients is None:
            return
        consumer, producer = clients
        self._consumer = consumer
        self.started.set()
        # Batches in flight, in the order they were fetched: one being fetched (aiokafka
        # decodes its records in Python on the event loop), up to ``PREPARING`` being prepared
        # by the store (parsed and validated, beside one another), one being applied (written
        # and committed). The oldest is applied as soon as it is prepared.
        fetching = self._fetch(consumer, stopping)
        preparing: deque[asyncio.Task[_Prepared]] = deque()
        try:
            while not stopping.is_set():
                if len(preparing) < PREPARING and (fetching.done() or not preparing):
                    fetched = await fetching
                    if fetched.batch:
                        # Its preparation goes to a thread before the next fetch takes the loop.
                        preparing.append(self._prepare(fetched, stopping))
                    fetching = self._fetch(consumer, stopping)
                    if not preparing and self._stop_at_end and await self._at_end(consumer):
                        fetched = await fetching  # the fetch begun meanwhile
                        fetching = self._fetch(consumer, stopping)
                        if fetched.batch:
                            preparing.append(self._prepare(fetched, stopping))
                            continue
                        log.info("kafka: every assigned partition is read to its end; stopping")
                        stopping.set()
                elif preparing[0].done() or len(preparing) >= PREPARING:
                    await self._process(consumer, producer, await preparing.popleft(), stopping)
                else:
                    await asyncio.wait([fetching, preparing[0]], return_when=FIRST_COMPLETED)
        finally:
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, KafkaError):
                await fetching  # a batch fetched but never applied is delivered again
            for pending in preparing:
                # Not applied, so not committed: it is delivered again.
                with contextlib.suppress(Exception):
                    await self._sink.discard((await pending).prepared)
            self._consumer = None
            try:  # with the broker gone, aiokafka's consumer can fail to stop (CancelledError)
                await consumer.stop()
            finally:
                await producer.stop()

    def _fetch(
        self, consumer: AIOKafkaConsumer[bytes, bytes], stopping: asyncio.Event
    ) -> asyncio.Task[_Fetched]:
        """The next batch. One that arrived before a rebalance is dropped (positions restart
        from the committed or stored offsets after one), and so are its partitions that were
        sought to the store's positions after it arrived (they are fetched again from there)."""

        async def fetch() -> _Fetched:
            batch = await consumer.getmany(timeout_ms=200, max_records=self._max_records)
            await self._check_positions(consumer, batch, stopping)
            seeks = {tp: self._seeks.get(tp, 0) for tp in batch}
            return _Fetched(self._generation, seeks, batch)

        return asyncio.create_task(fetch(), name="kafka-fetch")

    def _prepare(self, fetched: _Fetched, stopping: asyncio.Event) -> asyncio.Task[_Prepared]:
        """The sink's preparation of a batch (decoding, validation), begun now."""
        messages = message_batch(fetched.batch)

        async def prepare() -> _Prepared:
            prepared = await self._retry.call(
                lambda: self._sink.prepare(messages), "prepare a batch", stopping
            )
            return _Prepared(fetched, prepared)

        return asyncio.create_task(prepare(), name="kafka-prepare")

    async def _connect(
        self, stopping: asyncio.Event
    ) -> tuple[AIOKafkaConsumer[bytes, bytes], AIOKafkaProducer[bytes, bytes]] | None:
        """Started clients (the consumer subscribed), retrying with backoff while the broker is
        unreachable; None if asked to stop first."""
        servers = self._options.bootstrap_servers

        async def start() -> tuple[AIOKafkaConsumer[bytes, bytes], AIOKafkaProducer[bytes, bytes]]:
            consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
                bootstrap_servers=servers,
                group_id=self._options.group_id,
                enable_auto_commit=False,
                auto_offset_reset="earliest",
                max_partition_fetch_bytes=8 * 1024 * 1024,
                fetch_max_wait_ms=FETCH_WAIT_MS,
            )
            producer = new_producer(self._options)
            consumer.subscribe(list(self._options.topics), listener=_Rebalance(self, consumer))
            try:
                await producer.start()
                await consumer.start()
            except KafkaError:
                await consumer.stop()
                await producer.stop()
                raise
            return consumer, producer

        try:
            return await self._retry.call(start, f"reach {servers}", stopping)
        except KafkaError:
            if stopping.is_set():
                return None
            raise

    async def _process(
        self,
        consumer: AIOKafkaConsumer[bytes, bytes],
        producer: AIOKafkaProducer[bytes, bytes],
        ready: _Prepared,
        stopping: asyncio.Event,
    ) -> None:
        batch = ready.fetched.batch
        headers = [message.headers for messages in batch.values() for message in messages]
        with consumed(self._tracer, (tp.topic for tp in batch), headers):
            await self._apply(consumer, producer, ready, stopping)

    async def _apply(
        self,
        consumer: AIOKafkaConsumer[bytes, bytes],
        producer: AIOKafkaProducer[bytes, bytes],
        ready: _Prepared,
        stopping: asyncio.Event,
    ) -> None:
        prepared, batch = ready.prepared, ready.fetched.batch
        async with self._in_flight:
            current = {
                tp: messages
                for tp, messages in batch.items()
                if ready.fetched.generation == self._generation
                and ready.fetched.seeks[tp] == self._seeks.get(tp, 0)
            }
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
            dead = _dead_letters(batch, prepared.rejected)
            if dead:
                await self._retry.call(
                    lambda: self._dead_letter(producer, dead), "dead-letter the poison", stopping
                )
            result = await self._retry.call(
                lambda: self._sink.apply(prepared),
                "apply the batch",
                stopping,
            )
            positions = prepared.batch.positions
        now = self._clock()
        self.totals.applied += result.applied
        self.totals.duplicates += result.duplicates
        self.totals.dead_lettered += len(dead)
        for position in positions:
            self.totals.last_applied_at[(position.source, position.partition)] = now
            self._through[TopicPartition(position.source, position.partition)] = (
                position.next_offset
            )
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
        totals = self.totals
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

    async def _dead_letter(
        self, producer: AIOKafkaProducer[bytes, bytes], dead: Sequence[DeadLetter]
    ) -> None:
        sent = []
        for letter in dead:
            message = letter.message
            headers = [
                ("dlq.reason", letter.reason.encode()),
                ("dlq.detail", letter.detail.encode()),
                ("dlq.topic", message.topic.encode()),
                ("dlq.partition", str(message.partition).encode()),
                ("dlq.offset", str(message.offset).encode()),
            ]
            if message.key is not None:
                headers.append(("dlq.key", message.key))
            # Keyed by where the message was: one dead-lettered again after a crash before the
            # commit is a repeat its reader can tell (and a compacted topic keeps once).
            origin = f"{message.topic}/{message.partition}/{message.offset}".encode()
            topic = message.topic + self._options.dlq_suffix
            sent.append(await producer.send(topic, message.value, key=origin, headers=headers))
        for delivery in sent:
            await delivery
        if dead:
            log.info("kafka: %d poison messages dead-lettered", len(dead))

    # -- rebalances -----------------------------------------------------------------------------

    async def _finish_in_flight(self) -> None:
        async with self._in_flight:
            self._generation += 1

    async def _resume_from_store(
        self, consumer: AIOKafkaConsumer[bytes, bytes], assigned: Sequence[TopicPartition]
    ) -> None:
        self._unconfirmed = {}
        for topic in {tp.topic for tp in assigned}:
            stored = await self._store.positions(topic)
            for tp in (tp for tp in assigned if tp.topic == topic):
                committed = await consumer.committed(tp)
                ahead = stored.get(tp.partition)
                self._through[tp] = max(committed or 0, ahead or 0)
                if self._through[tp] > 0:
                    self._unconfirmed[tp] = self._through[tp]
                if ahead is not None and (committed is None or ahead > committed):
                    log.info("kafka: %s resumes at the store's offset %d", tp, ahead)
                    consumer.seek(tp, ahead)
                    self._seeks[tp] = self._seeks.get(tp, 0) + 1
                elif committed is not None and (ahead or 0) < committed:
                    log.warning(
                        "kafka: %s: the store's position (%s) is behind the group's committed "
                        "offset %d: records before it are not in this store",
                        tp,
                        ahead,
                        committed,
                    )

    async def _check_positions(
        self,
        consumer: AIOKafkaConsumer[bytes, bytes],
        batch: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]],
        stopping: asyncio.Event,
    ) -> None:
        """Whether the log of each partition holds the position it resumed at, from the first
        answer for it: its records (a first offset before the position: the broker found it out
        of range and aiokafka went back to the start) or, with none, its high watermark (Tansu
        answers a fetch past the end with nothing until the log grows past it). Records before
        the next offset to apply, mid-stream, are the same sign. The records of a partition
        reset BEYOND_END are taken out of ``batch``."""
        for tp, fetched in batch.items():
            if fetched and fetched[0].offset < self._through.get(tp, 0):
                self._unconfirmed.setdefault(tp, self._through[tp])  # aiokafka went back itself
        for tp, position in list(self._unconfirmed.items()):
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
                        del self._unconfirmed[tp]
                        continue
                elif end is None:
                    continue  # no answer for it yet
                elif end < position:
                    kind = PositionResetKind.BEYOND_END
                else:
                    del self._unconfirmed[tp]
                    continue
                reset = await self._reset(consumer, tp, kind, position, end, stopping)
            except KafkaError as error:  # its log start not told: checked again, refetched
                log.warning("kafka: %s: position not checked (%s)", tp, error)
                if messages:  # the latest batch: no later one was fetched past these
                    consumer.seek(tp, messages[0].offset)
                    del batch[tp]
                continue
            del self._unconfirmed[tp]
            self.totals.position_resets.append(reset)
            if kind is PositionResetKind.BEYOND_END:
                batch.pop(tp, None)  # fetched again from where it resumes (or paused)

    async def _reset(
        self,
        consumer: AIOKafkaConsumer[bytes, bytes],
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
        if self._options.on_position_reset == "pause":
            consumer.pause(tp)
            log.error("%s; paused (--kafka-on-position-reset pause) for an operator", why)
            return PositionReset(
                tp.topic, tp.partition, kind, position, start, end, None, self._clock()
            )
        async with self._in_flight:  # no batch is applied while the position moves back
            await self._retry.call(
                lambda: self._store.rewind(tp.topic, tp.partition, start),
                "rewind a reset partition",
                stopping,
            )
            consumer.seek(tp, start)
            self._seeks[tp] = self._seeks.get(tp, 0) + 1
            self._through[tp] = start
        log.error(
            "%s; reading it again from its start, %d (records are counted once by id)", why, start
        )
        return PositionReset(
            tp.topic, tp.partition, kind, position, start, end, start, self._clock()
        )

    async def _at_end(self, consumer: AIOKafkaConsumer[bytes, bytes]) -> bool:
        """Every assigned partition read to its end (a position not yet confirmed is not one:
        past a log's end, it is where a reset is found)."""
        assigned = consumer.assignment()
        if not assigned or self._unconfirmed:
            return False
        for tp in assigned:
            end = consumer.highwater(tp)
            if end is None or await consumer.position(tp) < end:
                return False
        return True

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member owns now."""
        consumer = self._consumer
        if consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in consumer.assignment()}

    # -- status ---------------------------------------------------------------------------------

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet applied, per assigned partition whose end the broker has told."""
        consumer = self._consumer
        if consumer is None:
            return {}
        lags = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is not None:
                lags[(tp.topic, tp.partition)] = max(end - self._through.get(tp, 0), 0)
        return lags

    async def status(self) -> list[PartitionStatus]:
        consumer = self._consumer
        if consumer is None:
            return []
        statuses = []
        for tp in sorted(consumer.assignment()):
            resets = [
                r
                for r in self.totals.position_resets
                if (r.topic, r.partition) == (tp.topic, tp.partition)
            ]
            statuses.append(
                PartitionStatus(
                    topic=tp.topic,
                    partition=tp.partition,
                    committed=await consumer.committed(tp),
                    high_watermark=consumer.highwater(tp),
                    last_applied_at=self.totals.last_applied_at.get((tp.topic, tp.partition)),
                    position_resets=len(resets),
                    last_position_reset=resets[-1] if resets else None,
                )
            )
        return statuses


class _Rebalance(ConsumerRebalanceListener):  # type: ignore[misc]  # aiokafka is untyped
    """Revocation waits for the batch in flight to be applied; assignment resumes from the store
    wherever it is ahead of Kafka's committed offsets."""

    def __init__(self, ingest: KafkaIngest, consumer: AIOKafkaConsumer[bytes, bytes]) -> None:
        self._ingest = ingest
        self._consumer = consumer

    async def on_partitions_revoked(self, revoked: Sequence[TopicPartition]) -> None:
        await self._ingest._finish_in_flight()

    async def on_partitions_assigned(self, assigned: Sequence[TopicPartition]) -> None:
        async with self._ingest._in_flight:  # no batch is applied while positions move
            await self._ingest._resume_from_store(self._consumer, assigned)


async def _log_start(consumer: AIOKafkaConsumer[bytes, bytes], tp: TopicPartition) -> int:
    start: int = (await consumer.beginning_offsets([tp]))[tp]
    return start
