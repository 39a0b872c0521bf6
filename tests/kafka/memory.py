"""Kafka and a store in memory, for the consumer's fast tests: a consumer over in-memory logs
(answering as Kafka does), a producer that records what it sends, and a sink that keeps
positions as a store does. Each can be held at a step, so that a test decides what happens
in between; everything they do is written in one ``journal``."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from aiokafka import ConsumerRebalanceListener, ConsumerRecord, OffsetAndMetadata, TopicPartition

from gql_analytics.adapters.kafka.clients import Clients, Listening, OpenClients, Records
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import MessageBatch, MessagesResult, Rejection
from tests.support import NOW, eventually, within

TOPIC = "events"
TP0, TP1 = TopicPartition(TOPIC, 0), TopicPartition(TOPIC, 1)
POISON = b"poison"


def options(on_position_reset: str = "earliest") -> KafkaOptions:
    return KafkaOptions(
        bootstrap_servers="memory:9092",
        topics=(TOPIC,),
        group_id="group",
        dlq_suffix=".dlq",
        live_topic="live",
        idempotence=False,
        timeout=30.0,
        on_position_reset=on_position_reset,
    )


def record(tp: TopicPartition, offset: int, value: bytes) -> ConsumerRecord[bytes, bytes]:
    return ConsumerRecord(tp.topic, tp.partition, offset, 0, 0, None, value, None, 0, 0, ())


def spans(batch: MessageBatch) -> str:
    """A batch as ``events/0:0-9 events/1:3-4`` (each partition's first and last offset)."""
    return " ".join(
        f"{p.topic}/{p.partition}:{p.offsets[0]}-{p.offsets[-1]}" for p in batch.partitions
    )


class Gates:
    """Holds the next ``count`` callers of ``passing`` until a test opens their gate."""

    def __init__(self) -> None:
        self.count = 0
        self.waiting: list[asyncio.Event] = []

    async def passing(self) -> None:
        if self.count:
            self.count -= 1
            gate = asyncio.Event()
            self.waiting.append(gate)
            await gate.wait()

    def open(self) -> None:
        """Lets every caller pass, now and from now on."""
        self.count = 0
        for gate in self.waiting:
            gate.set()


class MemoryConsumer:
    """aiokafka's consumer as the ingest uses it, over logs in memory. A position outside its
    log is reset to the log's start at the next fetch, as aiokafka does when Kafka answers
    "offset out of range" (``auto_offset_reset="earliest"``); with ``as_tansu``, a position
    past the log's end is answered with nothing, as Tansu 0.6 answers."""

    def __init__(self, journal: list[str], *, as_tansu: bool = False) -> None:
        self.journal = journal
        self.as_tansu = as_tansu
        self.logs: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = {}
        self.starts: dict[TopicPartition, int] = {}
        self.committed_offsets: dict[TopicPartition, int] = {}
        self.listener: ConsumerRebalanceListener | None = None
        self.answers = 0  # fetches that returned records
        self.stopped = False
        self._assigned: set[TopicPartition] = set()
        self._positions: dict[TopicPartition, int] = {}
        self._told: set[TopicPartition] = set()  # the high watermarks a fetch has told
        self._paused: set[TopicPartition] = set()
        self._changed = asyncio.Event()

    # -- what a test does to the broker ---------------------------------------------------------

    def produce(self, values: Mapping[TopicPartition, Sequence[bytes]]) -> None:
        """Appends to several partitions at once (no fetch can fall in between)."""
        for tp, more in values.items():
            end = self._end(tp)
            self.logs.setdefault(tp, []).extend(
                record(tp, end + i, value) for i, value in enumerate(more)
            )
        self._changed.set()

    def recreate(self, tp: TopicPartition, values: Sequence[bytes]) -> None:
        """The topic deleted and created again: a new log, from offset 0."""
        self.logs[tp] = [record(tp, i, value) for i, value in enumerate(values)]
        self.starts[tp] = 0
        self._changed.set()

    def delete_before(self, tp: TopicPartition, offset: int) -> None:
        """Retention deleted the records before ``offset``."""
        self.logs[tp] = [r for r in self.logs.get(tp, []) if r.offset >= offset]
        self.starts[tp] = offset

    async def rebalance(self, assigned: Sequence[TopicPartition]) -> None:
        """The group rebalanced: this member now owns ``assigned``, each read from its
        committed offset (or its log's start) unless the listener seeks elsewhere."""
        if self.listener is not None:
            self.journal.append("revoking")
            await self.listener.on_partitions_revoked(set(self._assigned))
            self.journal.append("revoked")
        self._assigned = set(assigned)
        self._told &= self._assigned
        self._positions = {tp: self.committed_offsets.get(tp, self._start(tp)) for tp in assigned}
        if self.listener is not None:
            await self.listener.on_partitions_assigned(set(assigned))
        self._changed.set()

    # -- what the ingest calls ------------------------------------------------------------------

    def assignment(self) -> set[TopicPartition]:
        return set(self._assigned)

    async def getmany(
        self, *partitions: TopicPartition, timeout_ms: int = 0, max_records: int | None = None
    ) -> Records:
        """The records past each position, or an empty batch once ``timeout_ms`` passed with
        none (as the broker holds a fetch that finds nothing)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(timeout_ms / 1000):
                while True:
                    self._changed.clear()
                    batch = self._take(max_records)
                    if batch:
                        self.answers += 1
                        return batch
                    await self._changed.wait()
        return {}

    def highwater(self, partition: TopicPartition) -> int | None:
        return self._end(partition) if partition in self._told else None

    async def position(self, partition: TopicPartition) -> int:
        return self._positions[partition]

    async def committed(self, partition: TopicPartition) -> int | None:
        return self.committed_offsets.get(partition)

    async def beginning_offsets(
        self, partitions: list[TopicPartition]
    ) -> dict[TopicPartition, int]:
        return {tp: self._start(tp) for tp in partitions}

    def seek(self, partition: TopicPartition, offset: int) -> None:
        self.journal.append(f"seek {partition.topic}/{partition.partition}:{offset}")
        self._positions[partition] = offset
        self._changed.set()

    def pause(self, *partitions: TopicPartition) -> None:
        self._paused.update(partitions)

    async def commit(self, offsets: Mapping[TopicPartition, OffsetAndMetadata]) -> None:
        for tp, offset in sorted(offsets.items()):
            self.journal.append(f"commit {tp.topic}/{tp.partition}:{offset.offset}")
            self.committed_offsets[tp] = offset.offset

    async def stop(self) -> None:
        self.stopped = True

    # -- inside ---------------------------------------------------------------------------------

    def _start(self, tp: TopicPartition) -> int:
        return self.starts.get(tp, 0)

    def _end(self, tp: TopicPartition) -> int:
        log = self.logs.get(tp)
        return log[-1].offset + 1 if log else self._start(tp)

    def _take(self, max_records: int | None) -> Records:
        room = max_records or len(self._assigned) * 1_000_000
        batch: Records = {}
        for tp in sorted(self._assigned - self._paused):
            position = self._positions[tp]
            if self.as_tansu and position > self._end(tp):
                self._told.add(tp)
                continue
            if not self._start(tp) <= position <= self._end(tp):
                position = self._start(tp)  # "offset out of range": aiokafka goes to the start
            self._told.add(tp)
            records = [r for r in self.logs.get(tp, []) if r.offset >= position][:room]
            if records:
                batch[tp] = records
                room -= len(records)
                position = records[-1].offset + 1
            self._positions[tp] = position
            if not room:
                break
        return batch


class MemoryProducer:
    """Records what it sends; the broker acknowledges each message on the next loop turn."""

    def __init__(self, journal: list[str]) -> None:
        self.journal = journal
        self.sent: list[tuple[str, bytes | None, bytes | None, dict[str, bytes]]] = []
        self.stopped = False

    async def send(
        self,
        topic: str,
        value: bytes | None = None,
        key: bytes | None = None,
        *,
        headers: Sequence[tuple[str, bytes]] | None = None,
    ) -> Awaitable[Any]:
        self.sent.append((topic, value, key, dict(headers or ())))
        self.journal.append(f"send {topic} {(key or b'').decode()}")
        acknowledged: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_soon(self._acknowledge, acknowledged, key)
        return acknowledged

    def _acknowledge(self, acknowledged: asyncio.Future[None], key: bytes | None) -> None:
        self.journal.append(f"acknowledged {(key or b'').decode()}")
        acknowledged.set_result(None)

    async def stop(self) -> None:
        self.stopped = True


@dataclass(frozen=True, slots=True)
class Prepared:
    batch: MessageBatch
    rejected: tuple[Rejection, ...]


@dataclass
class MemorySink:
    """A ``MessageSink`` and ``PositionKeeper`` in one, as the ingest layer over a store: a
    message whose value is ``POISON`` is rejected; applying a batch raises its partitions'
    positions. ``prepares`` and ``applies`` hold callers at a gate; ``prepare_failures``
    preparations and ``failures`` applies fail (the store did not answer) before one succeeds."""

    journal: list[str]
    stored: dict[str, dict[int, int]] = field(default_factory=dict)
    applied: list[str] = field(default_factory=list)
    discarded: list[str] = field(default_factory=list)
    prepared: list[str] = field(default_factory=list)
    prepares: Gates = field(default_factory=Gates)
    applies: Gates = field(default_factory=Gates)
    failures: int = 0
    prepare_failures: int = 0
    preparing: int = 0
    most_preparing: int = 0

    async def prepare(self, batch: MessageBatch) -> Prepared:
        self.prepared.append(spans(batch))
        self.preparing += 1
        self.most_preparing = max(self.most_preparing, self.preparing)
        try:
            await self.prepares.passing()
        finally:
            self.preparing -= 1
        if self.prepare_failures:
            self.prepare_failures -= 1
            self.journal.append(f"prepare failed {spans(batch)}")
            raise StoreUnavailable("store: restarting")
        rejected = tuple(
            Rejection((part.topic, part.partition, offset), "not_json", "not a JSON document")
            for part in batch.partitions
            for offset, value in zip(part.offsets, part.values, strict=True)
            if value == POISON
        )
        return Prepared(batch, rejected)

    async def apply(self, prepared: Prepared) -> MessagesResult:
        await self.applies.passing()
        if self.failures:
            self.failures -= 1
            self.journal.append(f"apply failed {spans(prepared.batch)}")
            raise StoreUnavailable("store: restarting")
        self.journal.append(f"apply {spans(prepared.batch)}")
        self.applied.append(spans(prepared.batch))
        for position in prepared.batch.positions:
            self.stored.setdefault(position.source, {})[position.partition] = max(
                position.next_offset,
                self.stored.get(position.source, {}).get(position.partition, 0),
            )
        count = sum(len(part.offsets) for part in prepared.batch.partitions)
        return MessagesResult(applied=count - len(prepared.rejected), duplicates=0)

    async def discard(self, prepared: Prepared) -> None:
        self.discarded.append(spans(prepared.batch))

    async def positions(self, source: str) -> dict[int, int]:
        return dict(self.stored.get(source, {}))

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        self.journal.append(f"rewind {source}/{partition}:{next_offset}")
        self.stored.setdefault(source, {})[partition] = next_offset


async def no_wait(stopping: asyncio.Event, delay: timedelta) -> bool:
    """A retry's pause that takes no time (the loop turns once)."""
    await asyncio.sleep(0)
    return stopping.is_set()


async def until(condition: Callable[[], bool], message: str) -> None:
    async def holds() -> bool:
        return condition()

    await eventually(holds, message)


class Memory:
    """A ``KafkaIngest`` on the in-memory broker and sink, not yet running; its retries do not
    wait unless given ``retry``."""

    def __init__(
        self,
        *,
        max_records: int = 10,
        stop_at_end: bool = False,
        on_position_reset: str = "earliest",
        retry: Retry | None = None,
        clients: OpenClients | None = None,
    ) -> None:
        self.journal: list[str] = []
        self.consumer = MemoryConsumer(self.journal)
        self.producer = MemoryProducer(self.journal)
        self.sink = MemorySink(self.journal)
        self.stopping = asyncio.Event()
        self.ingest = KafkaIngest(
            self.sink,
            self.sink,
            options(on_position_reset),
            clock=lambda: NOW,
            max_records=max_records,
            stop_at_end=stop_at_end,
            clients=clients or self.open_clients,
            retry=retry or Retry(pause=no_wait),
        )

    async def open_clients(self, listening: Listening) -> Clients:
        self.consumer.listener = listening(self.consumer)
        return Clients(self.consumer, self.producer)

    def run(self) -> asyncio.Task[None]:
        return asyncio.create_task(self.ingest.run(self.stopping))


@contextlib.asynccontextmanager
async def consuming(
    assigned: Sequence[TopicPartition] = (TP0,),
    *,
    max_records: int = 10,
    on_position_reset: str = "earliest",
    retry: Retry | None = None,
) -> AsyncIterator[Memory]:
    """A consumer running until the block ends, assigned ``assigned`` on the way in."""
    memory = Memory(max_records=max_records, on_position_reset=on_position_reset, retry=retry)
    running = memory.run()
    try:
        await within(memory.ingest.started.wait())
        if assigned:
            await memory.consumer.rebalance(assigned)
        yield memory
    finally:
        memory.stopping.set()
        memory.sink.prepares.open()  # a test that failed may have left a batch at a gate
        memory.sink.applies.open()
        await within(running)
