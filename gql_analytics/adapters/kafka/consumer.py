"""The Kafka consumer: a consumer-group member that applies its partitions to the store.

Delivery is at least once; the effect is exactly once. Each batch from ``getmany`` goes to the
ingest layer raw (a ``MessageSink``): ``prepare`` decodes and validates it (DuckDB does that in
SQL), its poison is dead-lettered (and acknowledged by the broker), then ``apply`` commits its
records and the partition offsets it covers in one transaction, and publishes what changed.
Only after that are the offsets committed to Kafka. A crash between the two leaves the store
ahead of Kafka: on (re)assignment the consumer seeks to the store's positions, and redelivered
records keep their ids (from the message, or topic:partition:offset@timestamp) so the store
counts them once anyway. A position the partition's log does not hold is never skipped
silently (``position_check``).

The steps, one module each: ``clients`` (aiokafka's clients, connected with the ``retry``
policy), ``scheduler`` (fetch, prepare, apply, in order), ``partitions`` (rebalances, seeks and
positions, and the listener), ``position_check``, ``dead_letters`` and ``apply`` (the sink's
apply, then the offset commit). ``KafkaIngest`` wires them and answers for the status.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from functools import partial
from typing import Any

from opentelemetry.trace import NoOpTracer, Tracer

from gql_analytics.adapters.kafka.apply import Applier
from gql_analytics.adapters.kafka.clients import Consumer, OpenClients, connect, kafka_clients
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.kafka.partitions import Partitions, Rebalance
from gql_analytics.adapters.kafka.position_check import PositionCheck
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.adapters.kafka.scheduler import Scheduler
from gql_analytics.ports import IngestTotals, MessageSink, PartitionStatus, PositionKeeper


class KafkaIngest:
    """Consumes ``options.topics`` in ``options.group_id`` into ``sink``; ``positions`` is the
    store the sink commits positions to. ``clients`` opens the broker's clients (an in-memory
    consumer in tests), ``retry`` is how every step waits for the store or the broker."""

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
        clients: OpenClients | None = None,
        retry: Retry | None = None,
    ) -> None:
        self._sink = sink
        self._options = options
        self._max_records = max_records
        self._stop_at_end = stop_at_end
        self._open_clients = clients or kafka_clients(options)
        self._retry = retry or Retry()
        self._partitions = Partitions(positions)
        self._consumer: Consumer | None = None
        self.totals = IngestTotals()
        self.started = asyncio.Event()
        self._check = PositionCheck(
            self._partitions,
            positions,
            on_reset=options.on_position_reset,
            clock=clock,
            retry=self._retry,
            resets=self.totals.position_resets,
        )
        self._applier = Applier(
            sink,
            self._partitions,
            dlq_suffix=options.dlq_suffix,
            retry=self._retry,
            clock=clock,
            totals=self.totals,
            tracer=tracer or NoOpTracer(),
        )

    async def run(self, stopping: asyncio.Event) -> None:
        """Consume until ``stopping`` is set (or, with ``stop_at_end``, until every assigned
        partition is read to its end); then finish the batch, commit and leave the group."""
        listening = partial(Rebalance, self._partitions)
        servers = self._options.bootstrap_servers
        clients = await connect(self._open_clients, listening, self._retry, stopping, servers)
        if clients is None:
            return
        self._consumer = clients.consumer
        self.started.set()
        scheduler = Scheduler(
            clients,
            self._sink,
            self._partitions,
            self._check,
            self._applier,
            retry=self._retry,
            max_records=self._max_records,
            stop_at_end=self._stop_at_end,
        )
        try:
            await scheduler.run(stopping)
        finally:
            self._consumer = None
            try:  # with the broker gone, aiokafka's consumer can fail to stop (CancelledError)
                await clients.consumer.stop()
            finally:
                await clients.producer.stop()

    # -- status ---------------------------------------------------------------------------------

    def assignment(self) -> set[tuple[str, int]]:
        """The (topic, partition) pairs this member owns now."""
        consumer = self._consumer
        if consumer is None:
            return set()
        return {(tp.topic, tp.partition) for tp in consumer.assignment()}

    def lag(self) -> dict[tuple[str, int], int]:
        """Records not yet applied, per assigned partition whose end the broker has told."""
        consumer = self._consumer
        if consumer is None:
            return {}
        lags = {}
        for tp in consumer.assignment():
            end = consumer.highwater(tp)
            if end is not None:
                behind = end - self._partitions.next_offset(tp)
                lags[(tp.topic, tp.partition)] = max(behind, 0)
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
