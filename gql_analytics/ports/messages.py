"""Raw upstream messages in batches, as a source hands them to the ingest layer, and what came
of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol, TypeVar

from gql_analytics.domain.records import DEFAULT_TENANT, Event, SourcePosition
from gql_analytics.domain.upstream import MessageKey
from gql_analytics.domain.validation import Limits


@dataclass(frozen=True, slots=True)
class PartitionMessages:
    """Raw messages of one topic-partition as a consumer fetched them, column by column
    (``timestamps`` in milliseconds since the epoch)."""

    topic: str
    partition: int
    offsets: Sequence[int]
    timestamps: Sequence[int]
    values: Sequence[bytes | None]

    @property
    def position(self) -> SourcePosition:
        return SourcePosition(self.topic, self.partition, self.offsets[-1] + 1)


@dataclass(frozen=True, slots=True)
class MessageBatch:
    partitions: Sequence[PartitionMessages]
    tenant: str = DEFAULT_TENANT

    @property
    def positions(self) -> list[SourcePosition]:
        return [part.position for part in self.partitions if part.offsets]


@dataclass(frozen=True, slots=True)
class Rejection:
    """A message that is no record, and why (the reason and detail of its ``InvalidRecord``)."""

    key: MessageKey
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class StagedMessages:
    """A batch a store has staged (decoded and validated where it keeps its data), not yet
    applied: ``rejected`` are its messages that are no records; ``state`` is the store's own."""

    batch: MessageBatch
    limits: Limits
    rejected: tuple[Rejection, ...]
    state: object = None


@dataclass(frozen=True, slots=True)
class StagedResult:
    """What applying a staged batch wrote: ``applied`` new records, ``duplicates`` already
    stored, the (tenant, kind, name) of each series the new records are in, and the new events
    themselves when they were asked for."""

    applied: int
    duplicates: int
    series: frozenset[tuple[str, str, str]]
    events: tuple[Event, ...] = ()


@dataclass(frozen=True, slots=True)
class MessagesResult:
    """What a sink did with a batch: ``applied`` new records, ``duplicates`` already stored."""

    applied: int
    duplicates: int


class PreparedBatch(Protocol):
    """A batch a sink has prepared: what a source needs to know of it before it is applied."""

    @property
    def batch(self) -> MessageBatch: ...

    @property
    def rejected(self) -> tuple[Rejection, ...]: ...


PreparedT = TypeVar("PreparedT", bound=PreparedBatch)


class MessageSink(Protocol[PreparedT]):
    """Where a source (a Kafka consumer) hands raw upstream messages, in two steps: prepared
    (decoded and validated, nothing written, so the poison is known first and can be
    dead-lettered), then applied with the source positions they reach, or discarded."""

    async def prepare(self, batch: MessageBatch) -> PreparedT: ...

    async def apply(self, prepared: PreparedT) -> MessagesResult:
        """The records and the positions, in one transaction; subscribers hear of it after."""
        ...

    async def discard(self, prepared: PreparedT) -> None: ...
