"""Live changes shared by replicas through a Kafka topic that every replica reads whole.

A replica hands what a committed batch changed to its own subscribers at once and publishes it
on the live topic (``--kafka-live-topic``, keyed by tenant). Every replica reads that topic
without a consumer group (each partition assigned, from its end at start: only changes from now
on matter to live values) and hands the other replicas' changes to its own subscribers, which
recompute from the store they share. So a subscriber on replica A sees the records that replica
B (or a ``gql-analytics consume`` worker) applied. A change carries names, not records:
``eventStream`` streams the events applied by its own replica.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from gql_analytics.adapters.kafka import new_producer
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.ports import Change

log = logging.getLogger(__name__)
RETRY = 1.0  # seconds between attempts to reach the broker


def encode(change: Change, origin: str) -> bytes:
    return json.dumps(
        {
            "origin": origin,
            "tenant": change.tenant,
            "events": sorted(change.event_names),
            "metrics": sorted(change.metric_names),
        }
    ).encode()


def decode(value: bytes) -> tuple[str, Change]:
    """(origin, change) of a live-topic message."""
    body = json.loads(value)
    change = Change(
        tenant=str(body["tenant"]),
        event_names=frozenset(map(str, body["events"])),
        metric_names=frozenset(map(str, body["metrics"])),
    )
    return str(body["origin"]), change


class KafkaBus:
    def __init__(self, options: KafkaOptions, *, inner: InProcessBus | None = None) -> None:
        self._options = options
        self._topic = options.live_topic
        self._inner = inner or InProcessBus()
        self.origin = uuid.uuid4().hex  # this replica, so that it skips its own changes
        self._producer: AIOKafkaProducer[bytes, bytes] | None = None
        self._reading: asyncio.Task[None] | None = None
        self.listening = asyncio.Event()  # set once the topic is read from its end

    async def start(self) -> None:
        self._reading = asyncio.create_task(self._read_forever(), name="live-topic")

    async def stop(self) -> None:
        if self._reading is not None:
            self._reading.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reading
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def publish(self, change: Change) -> None:
        await self._inner.publish(change)
        producer = self._producer
        if producer is None:  # not connected yet: other replicas recompute at their next change
            return
        try:
            # Queued, not awaited: a batch's commit is not held up by the broker's answer.
            delivery = await producer.send(
                self._topic, encode(change, self.origin), key=change.tenant.encode()
            )
        except KafkaError as error:
            log.warning("live topic: a change was not sent: %s", error)
            return
        delivery.add_done_callback(_log_failure)

    def subscribe(
        self, tenant: str, *, events: bool = False
    ) -> AbstractAsyncContextManager[AsyncIterator[Change]]:
        return self._inner.subscribe(tenant, events=events)

    @property
    def wants_events(self) -> bool:
        return self._inner.wants_events

    async def _read_forever(self) -> None:
        while True:
            try:
                await self._read()
            except KafkaError as error:
                log.warning("live topic: %s; reading again in %g s", error, RETRY)
            self.listening.clear()
            await asyncio.sleep(RETRY)

    async def _read(self) -> None:
        servers = self._options.bootstrap_servers
        await _ensure_topic(servers or "", self._topic)
        producer = new_producer(self._options, linger_ms=5)
        consumer: AIOKafkaConsumer[bytes, bytes] = AIOKafkaConsumer(
            bootstrap_servers=servers, group_id=None, enable_auto_commit=False
        )
        try:
            await producer.start()
            await consumer.start()
            partitions = consumer.partitions_for_topic(self._topic) or set()
            assigned = [TopicPartition(self._topic, p) for p in sorted(partitions)]
            consumer.assign(assigned)
            await consumer.seek_to_end(*assigned)
            for tp in assigned:  # resolve the end now, so nothing sent from here on is missed
                await consumer.position(tp)
            self._producer = producer
            self.listening.set()
            async for message in consumer:
                await self._received(message.value)
        finally:
            self._producer = None
            try:  # with the broker gone, aiokafka's consumer can fail to stop (CancelledError)
                await consumer.stop()
            finally:
                await producer.stop()

    async def _received(self, value: bytes | None) -> None:
        try:
            origin, change = decode(value or b"")
        except (ValueError, KeyError, TypeError) as error:
            log.warning("live topic: a message that is not a change: %s", error)
            return
        if origin != self.origin:
            await self._inner.publish(change)


async def _ensure_topic(servers: str, topic: str) -> None:
    """Create the live topic if no one has (deployments create it with their replication)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=servers)
    await admin.start()
    try:
        if topic not in await admin.list_topics():
            log.info("live topic: creating %s (3 partitions, 1 replica)", topic)
            with contextlib.suppress(TopicAlreadyExistsError):  # another replica was first
                await admin.create_topics([NewTopic(topic, num_partitions=3, replication_factor=1)])
    finally:
        await admin.close()


def _log_failure(delivery: asyncio.Future[object]) -> None:
    if not delivery.cancelled() and delivery.exception() is not None:
        log.warning("live topic: a change was not delivered: %s", delivery.exception())
