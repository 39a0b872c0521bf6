"""The consumer's pipeline: batches fetched, prepared and applied, in the order they were
fetched, with several in flight so that the loop and the store's threads are all busy."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections import deque
from typing import Any

from aiokafka.errors import KafkaError

from gql_analytics.adapters.kafka.apply import Applier
from gql_analytics.adapters.kafka.batches import Fetched, Prepared, message_batch
from gql_analytics.adapters.kafka.clients import Clients
from gql_analytics.adapters.kafka.partitions import Partitions
from gql_analytics.adapters.kafka.position_check import PositionCheck
from gql_analytics.adapters.kafka.retry import Retry
from gql_analytics.ports import MessageSink

log = logging.getLogger(__name__)
PREPARING = 3  # batches prepared at once, ahead of the one applied


class Scheduler:
    """Batches in flight, in the order they were fetched: one being fetched (aiokafka decodes
    its records in Python on the event loop), up to ``PREPARING`` being prepared by the sink
    (parsed and validated, beside one another), one being applied (written and committed). The
    oldest is applied as soon as it is prepared."""

    def __init__(
        self,
        clients: Clients,
        sink: MessageSink[Any],
        partitions: Partitions,
        check: PositionCheck,
        applier: Applier,
        *,
        retry: Retry,
        max_records: int,
        stop_at_end: bool,
    ) -> None:
        self._consumer = clients.consumer
        self._producer = clients.producer
        self._sink = sink
        self._partitions = partitions
        self._check = check
        self._applier = applier
        self._retry = retry
        self._max_records = max_records
        self._stop_at_end = stop_at_end

    async def run(self, stopping: asyncio.Event) -> None:
        """Until ``stopping`` is set (or, with ``stop_at_end``, every assigned partition is
        read to its end). A batch fetched or prepared but not applied is not committed: it is
        delivered again."""
        fetching = self._fetch(stopping)
        preparing: deque[asyncio.Task[Prepared]] = deque()
        try:
            while not stopping.is_set():
                if len(preparing) < PREPARING and (fetching.done() or not preparing):
                    fetched = await fetching
                    if fetched.records:
                        # Its preparation goes to a thread before the next fetch takes the loop.
                        preparing.append(self._prepare(fetched, stopping))
                    fetching = self._fetch(stopping)
                    if not preparing and self._stop_at_end and await self._at_end():
                        fetched = await fetching  # the fetch begun meanwhile
                        fetching = self._fetch(stopping)
                        if fetched.records:
                            preparing.append(self._prepare(fetched, stopping))
                            continue
                        log.info("kafka: every assigned partition is read to its end; stopping")
                        stopping.set()
                elif preparing[0].done() or len(preparing) >= PREPARING:
                    ready = await preparing.popleft()
                    await self._applier.apply(self._consumer, self._producer, ready, stopping)
                else:
                    await asyncio.wait([fetching, preparing[0]], return_when=FIRST_COMPLETED)
        finally:
            fetching.cancel()
            with contextlib.suppress(asyncio.CancelledError, KafkaError):
                await fetching
            for pending in preparing:
                with contextlib.suppress(Exception):
                    await self._sink.discard((await pending).prepared)

    def _fetch(self, stopping: asyncio.Event) -> asyncio.Task[Fetched]:
        """The next batch, checked against the positions its partitions resumed at."""

        async def fetch() -> Fetched:
            batch = await self._consumer.getmany(timeout_ms=200, max_records=self._max_records)
            await self._check.check(self._consumer, batch, stopping)
            return self._partitions.stamp(batch)

        return asyncio.create_task(fetch(), name="kafka-fetch")

    def _prepare(self, fetched: Fetched, stopping: asyncio.Event) -> asyncio.Task[Prepared]:
        """The sink's preparation of a batch (decoding, validation), begun now."""
        messages = message_batch(fetched.records)

        async def prepare() -> Prepared:
            prepared = await self._retry.call(
                lambda: self._sink.prepare(messages), "prepare a batch", stopping
            )
            return Prepared(fetched, prepared)

        return asyncio.create_task(prepare(), name="kafka-prepare")

    async def _at_end(self) -> bool:
        """Every assigned partition read to its end (a position not yet confirmed is not one:
        past a log's end, it is where a reset is found)."""
        consumer = self._consumer
        assigned = consumer.assignment()
        if not assigned or self._partitions.unconfirmed:
            return False
        for tp in assigned:
            end = consumer.highwater(tp)
            if end is None or await consumer.position(tp) < end:
                return False
        return True
