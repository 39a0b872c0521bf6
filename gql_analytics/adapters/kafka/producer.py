"""The ingest mutations' way into Kafka: produce, wait for the broker, optionally for the store.

Each record goes out as the upstream shape ``domain.wire`` writes, keyed by its id, with
``acks=all``. The produce is a span of the mutation's trace, and every message carries its ``traceparent``
header, so the consumer's batch joins the trace. ``submit(wait=True)`` then waits until the store's positions for the partitions
written pass the produced offsets: read-your-writes on demand, whichever process consumes.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Sequence
from datetime import timedelta

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError
from aiokafka.structs import RecordMetadata
from opentelemetry.trace import NoOpTracer, SpanKind, Tracer

from gql_analytics.adapters.kafka import new_producer
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.domain.records import Record
from gql_analytics.domain.wire import to_message
from gql_analytics.errors import BrokerUnavailable, NotYetApplied
from gql_analytics.observability.tracing import trace_headers
from gql_analytics.ports import PositionKeeper

log = logging.getLogger(__name__)
POLL = timedelta(milliseconds=20)


class KafkaSink:
    def __init__(
        self,
        store: PositionKeeper,
        options: KafkaOptions,
        *,
        wait_timeout: timedelta = timedelta(seconds=30),
        tracer: Tracer | None = None,
    ) -> None:
        self._store = store
        self._tracer = tracer or NoOpTracer()
        self._options = options
        self._topic = options.ingest_topic
        self._wait_timeout = wait_timeout
        self._timeout = options.timeout
        self._producer: AIOKafkaProducer[bytes, bytes] | None = None
        self._connecting = asyncio.Lock()  # one producer, however many mutations wait for it

    async def start(self) -> None:
        """Connect; an unreachable broker is logged, and each mutation tries again until it is
        reachable (answering BROKER_UNAVAILABLE meanwhile), so the gateway still serves reads."""
        try:
            await self._connect()
        except BrokerUnavailable as error:
            log.warning("%s; mutations will retry", error)

    async def _connect(self) -> AIOKafkaProducer[bytes, bytes]:
        async with self._connecting:
            if self._producer is not None:
                return self._producer
            # aiokafka clients belong to the running loop, so they are made here, not in
            # __init__.
            producer = new_producer(self._options, linger_ms=2)
            try:
                await producer.start()
            except BaseException as error:  # a timeout's cancellation too: no client left behind
                await producer.stop()
                if isinstance(error, KafkaError):
                    raise BrokerUnavailable(
                        f"kafka: the broker is not reachable: {error}"
                    ) from error
                raise
            self._producer = producer
            return producer

    async def check(self) -> None:
        """Return if the broker answers a metadata request now; ``BrokerUnavailable`` if it
        refuses (the caller bounds how long it may take)."""
        producer = await self._connect()
        try:
            await producer.client.fetch_all_metadata()
        except KafkaError as error:
            raise BrokerUnavailable(f"kafka: the broker is not reachable: {error}") from error

    async def stop(self) -> None:
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None

    async def submit(self, records: Sequence[Record], *, wait: bool) -> None:
        """``BrokerUnavailable`` when the broker has not acknowledged every record within
        ``kafka_timeout``: some may still arrive, which their ids make harmless on a retry."""
        if not records:
            return
        try:
            async with asyncio.timeout(self._timeout):
                written = await self._send(records)
        except TimeoutError as error:
            message = f"kafka: the broker did not acknowledge within {self._timeout:g} s"
            log.warning("%s (%d records)", message, len(records))
            raise BrokerUnavailable(message) from error
        if wait:
            needed: dict[int, int] = {}
            for metadata in written:
                needed[metadata.partition] = max(
                    needed.get(metadata.partition, 0), metadata.offset + 1
                )
            await self._applied(needed)

    async def _send(self, records: Sequence[Record]) -> list[RecordMetadata]:
        producer = await self._connect()
        with self._tracer.start_as_current_span(
            f"send {self._topic}",
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "kafka",
                "messaging.operation.type": "send",
                "messaging.destination.name": self._topic,
                "messaging.batch.message_count": len(records),
            },
        ):
            headers = trace_headers()
            try:
                deliveries = [
                    await producer.send(
                        self._topic,
                        json.dumps(to_message(r)).encode(),
                        key=r.id.encode(),
                        headers=headers,
                    )
                    for r in records
                ]
                return [await delivery for delivery in deliveries]
            except KafkaError as error:
                log.warning("kafka: %d records not acknowledged: %s", len(records), error)
                raise BrokerUnavailable(
                    f"kafka: the broker did not acknowledge: {error}"
                ) from error

    async def _applied(self, needed: dict[int, int]) -> None:
        deadline = time.monotonic() + self._wait_timeout.total_seconds()
        while True:
            positions = await self._store.positions(self._topic)
            if all(positions.get(p, 0) >= offset for p, offset in needed.items()):
                return
            if time.monotonic() > deadline:
                raise NotYetApplied("wait: the records were produced but not yet applied")
            await asyncio.sleep(POLL.total_seconds())
