"""The values that cross the ports: what a read asks and answers, what changed, and how far
ingestion has come."""

from __future__ import annotations

import enum
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gql_analytics.domain.records import Event
from gql_analytics.domain.rollup import SeriesKey
from gql_analytics.domain.timerange import TimeRange


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


def version_of(series: Sequence[SeriesInfo]) -> Version:
    """A version read from the series themselves, for a store shared by processes: the store
    updates a series' count in the same transaction as its records, so (series, records
    counted, newest record) moves with every batch applied to them."""
    seen = [s.last_seen for s in series if s.last_seen is not None]
    return len(series), sum(s.count for s in series), max(seen, default=None)


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


@dataclass(frozen=True, slots=True)
class Change:
    """What one committed batch changed, as the live bus carries it."""

    tenant: str
    event_names: frozenset[str]
    metric_names: frozenset[str]
    events: tuple[Event, ...] = ()


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
