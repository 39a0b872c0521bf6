"""What ingest answers: each mutation's result, and the consumer's progress."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain.drafts import EventDraft, MetricDraft
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    IngestTotals,
    PartitionStatus,
)
from gql_analytics.ports import PositionReset as DomainPositionReset


@strawberry.type(description="A batch item that was refused; nothing of it was stored.")
class ItemError:
    index: int
    field: str | None
    code: str
    message: str

    @classmethod
    def from_domain(cls, index: int, error: InvalidRecord) -> ItemError:
        return cls(index=index, field=error.field, code=error.code, message=error.message)


@strawberry.type
class TrackResult:
    accepted: int
    ids: list[str]
    errors: list[ItemError]


@strawberry.enum(description="How a partition's log failed to hold the consumer's position.")
class PositionResetKind(enum.Enum):
    BEYOND_END = strawberry.enum_value(
        "BEYOND_END", description="The log ends before it: topic recreated, broker data lost."
    )
    BEFORE_START = strawberry.enum_value(
        "BEFORE_START", description="The log starts after it: records deleted before applied."
    )


@strawberry.type(
    description="A partition whose log did not hold the position its consumer resumed at."
)
class PositionReset:
    kind: PositionResetKind
    position: int = strawberry.field(description="Where the consumer was to resume.")
    log_start: int
    log_end: int | None
    resumed_at: int | None = strawberry.field(
        description="Where it reads from now; null while it is paused for an operator."
    )
    lost: int = strawberry.field(description="Records deleted before they were applied.")
    at: datetime

    @classmethod
    def from_domain(cls, reset: DomainPositionReset) -> PositionReset:
        return cls(
            kind=PositionResetKind[reset.kind.name],
            position=reset.position,
            log_start=reset.log_start,
            log_end=reset.log_end,
            resumed_at=reset.resumed_at,
            lost=reset.lost,
            at=reset.at,
        )


@strawberry.type
class PartitionIngest:
    topic: str
    partition: int
    committed_offset: int | None
    high_watermark: int | None
    lag: int | None
    last_applied_at: datetime | None
    position_resets: int
    last_position_reset: PositionReset | None

    @classmethod
    def from_domain(cls, status: PartitionStatus) -> PartitionIngest:
        last = status.last_position_reset
        return cls(
            topic=status.topic,
            partition=status.partition,
            committed_offset=status.committed,
            high_watermark=status.high_watermark,
            lag=status.lag,
            last_applied_at=status.last_applied_at,
            position_resets=status.position_resets,
            last_position_reset=None if last is None else PositionReset.from_domain(last),
        )


@strawberry.type(description="The Kafka consumer of this process: per partition, and totals.")
class IngestStatus:
    kafka: bool
    partitions: list[PartitionIngest]
    applied: int
    duplicates: int
    dead_lettered: int
    position_resets: int = strawberry.field(
        description="Partitions found not to hold the position resumed at, since start."
    )

    @classmethod
    def from_domain(cls, status: tuple[list[PartitionStatus], IngestTotals] | None) -> IngestStatus:
        if status is None:
            return cls(
                kafka=False,
                partitions=[],
                applied=0,
                duplicates=0,
                dead_lettered=0,
                position_resets=0,
            )
        partitions, totals = status
        return cls(
            kafka=True,
            partitions=[PartitionIngest.from_domain(p) for p in partitions],
            applied=totals.applied,
            duplicates=totals.duplicates,
            dead_lettered=totals.dead_lettered,
            position_resets=len(totals.position_resets),
        )


@strawberry.input
class EventInput:
    name: str
    id: str | None = None
    user_id: str | None = None
    occurred_at: datetime | None = None
    properties: JSON | None = None
    source: str | None = None

    def to_draft(self) -> EventDraft:
        return EventDraft(
            name=self.name,
            id=self.id,
            user_id=self.user_id,
            occurred_at=self.occurred_at,
            properties=self.properties,
            source=self.source,
        )


@strawberry.input
class MetricInput:
    name: str
    value: float
    id: str | None = None
    tags: JSON | None = None
    occurred_at: datetime | None = None

    def to_draft(self) -> MetricDraft:
        return MetricDraft(
            name=self.name,
            value=self.value,
            id=self.id,
            tags=self.tags,
            occurred_at=self.occurred_at,
        )
