"""Where committed changes go (the live bus), where ingest mutations send records, and a
consumer's progress."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Protocol

from gql_analytics.domain.records import Record
from gql_analytics.ports.values import Change, IngestTotals, PartitionStatus


class LiveBus(Protocol):
    """Fan-out of committed changes to the subscriptions of a tenant."""

    async def publish(self, change: Change) -> None: ...

    def subscribe(
        self, tenant: str, *, events: bool = False
    ) -> AbstractAsyncContextManager[AsyncIterator[Change]]:
        """Changes of ``tenant`` from now on; ``events`` says the subscriber reads the new events
        themselves (``Change.events``), not only which names changed."""
        ...

    @property
    def wants_events(self) -> bool:
        """Whether any subscriber reads new events: publishers may leave them out otherwise."""
        ...


class IngestSink(Protocol):
    """Where ingest mutations send validated records: the in-process pipeline, or Kafka."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def submit(self, records: Sequence[Record], *, wait: bool) -> None:
        """Return once the records are durable: committed to the store (the pipeline, always),
        or acknowledged by the broker, and with ``wait`` also applied to the store (Kafka)."""
        ...


class IngestMonitor(Protocol):
    """A consumer's progress, for the ``ingestStatus`` query."""

    totals: IngestTotals

    async def status(self) -> list[PartitionStatus]: ...
