"""Raw upstream messages in batches, as a source hands them to a store, and what came of them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gql_analytics.domain.records import DEFAULT_TENANT, SourcePosition
from gql_analytics.domain.validation import Limits
from gql_analytics.ports.values import Change


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


MessageKey = tuple[str, int, int]
"""A message's (topic, partition, offset)."""


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
class PreparedMessages:
    """A batch a store has decoded and validated, not yet applied: ``rejected`` are its messages
    that are no records; ``state`` is the store's own (what it needs to apply the rest)."""

    batch: MessageBatch
    limits: Limits
    rejected: tuple[Rejection, ...]
    state: object = None


@dataclass(frozen=True, slots=True)
class MessagesResult:
    """What ``Store.apply_prepared`` did: ``applied`` new records, ``duplicates`` already stored."""

    applied: int
    duplicates: int
    changes: tuple[Change, ...] = ()
