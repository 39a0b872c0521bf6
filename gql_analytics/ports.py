"""The ports: what the service needs from a store and from a live bus.

Every ``Store`` adapter passes the one contract suite in ``tests/contract/``; every ``LiveBus``
adapter delivers each published change to every subscriber of its tenant.
"""

from __future__ import annotations

import enum
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from gql_analytics.analysis.jobs import AnalysisJob
from gql_analytics.auth.keys import ApiKey
from gql_analytics.domain.records import (
    DEFAULT_TENANT,
    ApplyResult,
    Batch,
    Event,
    Record,
    SourcePosition,
)
from gql_analytics.domain.rollup import SeriesKey
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.domain.validation import Limits


@dataclass(frozen=True, slots=True)
class Dependency:
    """Series an answer read: of one tenant and kind, by name or all of them."""

    tenant: str
    kind: str
    names: tuple[str, ...] | None  # None: every series of the kind, including new names


# What a store says of a dependency's series now: opaque, compared for equality only. It
# changes whenever records are applied to them, and for nothing else.
Version = tuple[object, ...]


@dataclass(frozen=True, slots=True)
class SeriesInfo:
    key: SeriesKey
    id: int
    count: int
    last_seen: datetime | None


@dataclass(frozen=True, slots=True)
class EventQuery:
    """Which raw events to list: every given condition must hold."""

    tenant: str
    names: tuple[str, ...] | None = None
    user_id: str | None = None
    time_range: TimeRange | None = None
    properties: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class EventCursor:
    """Position in the newest-first order of events: (occurred_at, id) descending."""

    occurred_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class JobCursor:
    """Position in the newest-first order of analysis jobs: (created_at, id) descending."""

    created_at: datetime
    id: str


@dataclass(frozen=True, slots=True)
class UserTaskCounts:
    user_id: str
    created: int
    completed: int
    avg_completion_seconds: float | None

    @property
    def open(self) -> int:
        return self.created - self.completed


@dataclass(frozen=True, slots=True)
class UserActivity:
    """The users with events in a range, in user id order, as columns aligned with ``users``:
    the distinct UTC days each was active, and per event name (every name in the range) each
    user's events of that name; and whether more users follow. Columns, not rows: a dataset of
    a million users stays a handful of arrays."""

    users: Collection[str]
    active_days: Collection[int]
    events: Mapping[str, Collection[int]]
    more: bool


@dataclass(frozen=True, slots=True)
class TaskColumns:
    """Tasks as columns aligned by position, and whether more follow. Times are UTC, as
    datetimes (None where missing) or numpy datetime64 (NaT where missing): whichever the store
    reads without making an object per value."""

    task_ids: Collection[str]
    user_ids: Collection[str | None]
    statuses: Collection[str | None]
    created_at: Collection[Any]
    completed_at: Collection[Any]
    more: bool


@dataclass(frozen=True, slots=True)
class TaskSummary:
    created: int
    completed: int
    avg_completion_seconds: float | None
    p50_completion_seconds: float | None
    p95_completion_seconds: float | None


class PositionResetKind(enum.Enum):
    BEYOND_END = "beyond_end"
    """The log ends before the position: the topic was recreated, or the broker lost its data."""
    BEFORE_START = "before_start"
    """The log starts after it: retention deleted records before they were applied."""


@dataclass(frozen=True, slots=True)
class PositionReset:
    """A partition whose log did not hold the position its consumer resumed at (the store's, or
    the group's committed offset). ``resumed_at`` is where it reads from now; None while it is
    paused for an operator (``--kafka-on-position-reset pause``)."""

    topic: str
    partition: int
    kind: PositionResetKind
    position: int
    log_start: int
    log_end: int | None
    resumed_at: int | None
    at: datetime

    @property
    def lost(self) -> int:
        """Records deleted before they were applied (``BEFORE_START``); none otherwise."""
        if self.kind is PositionResetKind.BEFORE_START:
            return self.log_start - self.position
        return 0


@dataclass(frozen=True, slots=True)
class PartitionStatus:
    topic: str
    partition: int
    committed: int | None
    high_watermark: int | None
    last_applied_at: datetime | None
    position_resets: int = 0
    last_position_reset: PositionReset | None = None

    @property
    def lag(self) -> int | None:
        if self.high_watermark is None:
            return None
        return self.high_watermark - (self.committed or 0)


@dataclass(slots=True)
class IngestTotals:
    """What a consumer has done since it started."""

    applied: int = 0
    duplicates: int = 0
    dead_lettered: int = 0
    last_applied_at: dict[tuple[str, int], datetime] = field(default_factory=dict)
    position_resets: list[PositionReset] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Change:
    """What one committed batch changed, as the live bus carries it."""

    tenant: str
    event_names: frozenset[str]
    metric_names: frozenset[str]
    events: tuple[Event, ...] = ()


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


class Store(Protocol):
    """Raw records, rollups, task state and source positions of every tenant.

    ``apply`` is all or nothing: the batch's new raw records, their rollup deltas and the batch's
    source positions are committed together, and a record whose (tenant, id) is already stored
    is neither stored nor counted again. Reads see every committed batch.
    """

    system: str  # the database behind it, as OpenTelemetry names it: "duckdb", "mongodb"

    async def apply(self, batch: Batch) -> ApplyResult: ...

    async def prepare_messages(self, batch: MessageBatch, limits: Limits) -> PreparedMessages:
        """Raw upstream messages decoded and validated as ``messages.decode`` does, nothing
        written: the rejections are known before anything is applied (so they can be
        dead-lettered first), and a store may prepare one batch while it applies another."""
        ...

    async def apply_prepared(
        self, prepared: PreparedMessages, *, with_events: bool = False
    ) -> MessagesResult:
        """The prepared batch's records and its partitions' positions applied, rejections
        skipped, with the effect ``apply`` has on those records. The changes carry the new events
        themselves only ``with_events``."""
        ...

    async def discard_prepared(self, prepared: PreparedMessages) -> None:
        """Forget a prepared batch that will not be applied."""
        ...

    async def versions(self, dependencies: Sequence[Dependency]) -> list[Version]:
        """The version of each dependency's series now; taken before the data is read, a
        version is never newer than that data."""
        ...

    async def positions(self, source: str) -> dict[int, int]:
        """Next offset per partition of ``source``, as committed with the batches."""
        ...

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        """Set a partition's position even below the stored one (batches only move it
        forward): its log was reset, and is read again from ``next_offset``."""
        ...

    async def series(
        self, tenant: str, kind: str, names: Sequence[str] | None = None
    ) -> list[SeriesInfo]: ...

    async def rollup_stats(
        self,
        groups: Mapping[int, str],
        time_range: TimeRange,
        interval: Interval | None,
        *,
        quantiles: Sequence[float] = (),
    ) -> dict[tuple[str, datetime | None], BucketSummary]:
        """Bucket statistics over a minute-aligned range, merged per (group label, output bucket
        start), where ``groups`` maps each series id to read onto its label; the key
        ``(label, None)`` holds the label's whole range (the only key when ``interval`` is None).
        Buckets without data are absent. Each summary carries the bin of every quantile in ``quantiles``, chosen
        from the merged histogram exactly as ``sketch.rank_bins`` chooses."""
        ...

    async def active_users(
        self, tenant: str, time_range: TimeRange, interval: Interval
    ) -> tuple[int, dict[datetime, int]]:
        """Distinct users over the minute-aligned range, and per output bucket."""
        ...

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        """Up to ``first`` events newest first, after the cursor; and whether more follow."""
        ...

    async def count_events(self, query: EventQuery) -> int: ...

    async def event(self, tenant: str, event_id: str) -> Event | None: ...

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        """Per user (ordered by user id), the tasks created in the range; whether more users
        follow; and how many users there are in all."""
        ...

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary: ...

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        """The first ``most`` users (by id) with events in the range, for analysis."""
        ...

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        """Up to ``most`` tasks created in the range, oldest first (then by task id)."""
        ...

    async def purge_raw(self, before: datetime) -> int:
        """Delete raw records that occurred before ``before``; rollups stay."""
        ...

    async def save_job(self, job: AnalysisJob) -> None:
        """Store an analysis job, replacing the one of the same tenant and id unless that one
        has ended: an ended job is final, whichever process saves it next."""

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None: ...

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        """Up to ``first`` jobs newest first, after the cursor; and whether more follow."""

    async def save_key(self, key: ApiKey) -> None:
        """Store an API key (by id), replacing the one of the same id (to revoke it)."""
        ...

    async def key(self, key_id: str) -> ApiKey | None: ...

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        """Every key (of the tenant), oldest first."""
        ...

    async def ping(self) -> None:
        """Return when the store answers; raise ``StoreUnavailable`` otherwise."""
        ...

    async def close(self) -> None: ...


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
