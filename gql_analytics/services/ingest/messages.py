"""Raw upstream messages into the store: decoding, the choice of how a batch is applied, and
what subscribers hear of it.

A batch is decoded here in Python (``domain.upstream.decode``: the reference behaviour) and written with
``RecordWriter.apply``; or, when the store offers ``MessageStager`` and says the batch is worth
it, staged and applied the store's own way (DuckDB decodes and rolls up a large batch in SQL),
with the same effect, which the tests hold it to. Either way the changes are published to the
live bus once the batch has committed.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import assert_never

from gql_analytics.domain.records import Batch, Record
from gql_analytics.domain.upstream import decode
from gql_analytics.domain.validation import Limits
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    LiveBus,
    MessageBatch,
    MessageKey,
    MessagesResult,
    MessageStager,
    PartitionMessages,
    RecordWriter,
    Rejection,
    StagedMessages,
)
from gql_analytics.services.ingest.changes import changes_in, changes_of, publish


def messages_of(
    part: PartitionMessages,
) -> Iterator[tuple[MessageKey, int, bytes | None]]:
    """(key, timestamp, value) of each message of a partition, in offset order."""
    for offset, timestamp, value in zip(part.offsets, part.timestamps, part.values, strict=True):
        yield (part.topic, part.partition, offset), timestamp, value


def decode_all(batch: MessageBatch, limits: Limits) -> tuple[list[Record], list[Rejection]]:
    """The records of a batch in message order, and the rejections of the rest."""
    records: list[Record] = []
    rejected: list[Rejection] = []
    for part in batch.partitions:
        for key, timestamp, value in messages_of(part):
            try:
                records.append(decode(value, key, timestamp, limits, batch.tenant))
            except InvalidRecord as error:
                rejected.append(Rejection(key, error.reason, error.message))
    return records, rejected


@dataclass(frozen=True, slots=True)
class Decoded:
    """A batch decoded in Python: its records, and the rejections of the rest."""

    batch: MessageBatch
    rejected: tuple[Rejection, ...]
    records: list[Record]


@dataclass(frozen=True, slots=True)
class Staged:
    """A batch a store staged its own way, and the store that applies it."""

    staged: StagedMessages
    stager: MessageStager

    @property
    def batch(self) -> MessageBatch:
        return self.staged.batch

    @property
    def rejected(self) -> tuple[Rejection, ...]:
        return self.staged.rejected


Prepared = Decoded | Staged


class MessageIngest:
    """The ``MessageSink`` a source hands its batches to: prepared, then applied (the records
    and the positions in one transaction, then published to ``bus``) or discarded."""

    def __init__(
        self,
        store: RecordWriter,
        bus: LiveBus,
        *,
        clock: Callable[[], datetime],
        retention: timedelta | None = None,
    ) -> None:
        self._store = store
        # The one place the optional capability is asked for.
        self._stager = store if isinstance(store, MessageStager) else None
        self._bus = bus
        self._clock = clock
        self._retention = retention

    async def prepare(self, batch: MessageBatch) -> Prepared:
        limits = Limits(self._clock(), self._retention)
        count = sum(len(part.offsets) for part in batch.partitions)
        if self._stager is not None and self._stager.worth_staging(count):
            return Staged(await self._stager.stage_messages(batch, limits), self._stager)
        records, rejected = decode_all(batch, limits)
        return Decoded(batch, tuple(rejected), records)

    async def apply(self, prepared: Prepared) -> MessagesResult:
        with_events = self._bus.wants_events
        if isinstance(prepared, Decoded):
            result = await self._store.apply(Batch(prepared.records, prepared.batch.positions))
            applied, duplicates = len(result.applied), result.duplicates
            changes = changes_of(result.applied, with_events=with_events)
        elif isinstance(prepared, Staged):
            staged = await prepared.stager.apply_staged(prepared.staged, with_events=with_events)
            applied, duplicates = staged.applied, staged.duplicates
            changes = changes_in(staged.series, staged.events)
        else:
            assert_never(prepared)
        await publish(self._bus, changes)  # committed in the store: subscribers hear of it now
        return MessagesResult(applied, duplicates)

    async def discard(self, prepared: Prepared) -> None:
        if isinstance(prepared, Staged):
            await prepared.stager.discard_staged(prepared.staged)
