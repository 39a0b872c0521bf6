"""What the gateway needs of a store, by role. A service asks for the roles it uses; an
adapter is a ``Store``, every role at once, and passes the contract suite in ``tests/contract/``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol, runtime_checkable

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.dimensions import DEFAULT_MAX_VALUES, Dimensions
from gql_analytics.domain.jobs import AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.domain.query.funnel import Funnel, FunnelQuestion
from gql_analytics.domain.query.question import Cell, Question
from gql_analytics.domain.query.retention import RetentionQuestion, RetentionTable
from gql_analytics.domain.records import ApplyResult, Batch, Event
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.domain.validation import Limits
from gql_analytics.ports.messages import MessageBatch, StagedMessages, StagedResult
from gql_analytics.ports.values import (
    Dependency,
    EventCursor,
    EventQuery,
    JobCursor,
    SeriesInfo,
    TaskColumns,
    TaskSummary,
    UserActivity,
    UserTaskCounts,
    Version,
)


class RecordWriter(Protocol):
    """Writes records: all or nothing, each (tenant, id) counted once."""

    async def apply(self, batch: Batch) -> ApplyResult: ...


@runtime_checkable
class MessageStager(Protocol):
    """An optional capability: a store that decodes and validates raw upstream messages its own
    way (DuckDB: in SQL), with the effect ``domain.upstream.decode`` and
    ``RecordWriter.apply`` have, faster for large batches. The ingest layer uses it when a store
    offers it and says a batch is worth it."""

    def worth_staging(self, messages: int) -> bool:
        """Whether staging a batch of this many messages costs less than decoding it in Python."""
        ...

    async def stage_messages(self, batch: MessageBatch, limits: Limits) -> StagedMessages:
        """Decoded and validated, nothing durable written: the rejections are known before
        anything is applied, and a store may stage one batch while it applies another."""
        ...

    async def apply_staged(self, staged: StagedMessages, *, with_events: bool) -> StagedResult:
        """The staged batch's records and its partitions' positions applied in one
        transaction, rejections skipped; the new events returned only ``with_events``."""
        ...

    async def discard_staged(self, staged: StagedMessages) -> None:
        """Forget a staged batch that will not be applied."""
        ...


class PositionKeeper(Protocol):
    """Keeps each source's positions, committed with the batches that reach them."""

    async def positions(self, source: str) -> dict[int, int]:
        """Next offset per partition of ``source``, as committed with the batches."""
        ...

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        """Set a partition's position even below the stored one (batches only move it
        forward): its log was reset, and is read again from ``next_offset``."""
        ...


class RollupReader(Protocol):
    """Reads rollups: series, their versions, bucket statistics, distinct users."""

    async def versions(self, dependencies: Sequence[Dependency]) -> list[Version]:
        """The version of each dependency's series now; taken before the data is read, a
        version is never newer than that data."""
        ...

    async def series(
        self, tenant: str, kind: str, names: Sequence[str] | None = None
    ) -> list[SeriesInfo]: ...

    async def rollup_stats(
        self,
        groups: Mapping[int, str],
        time_range: TimeRange,
        calendar: Calendar | None,
        *,
        quantiles: Sequence[float] = (),
    ) -> dict[tuple[str, datetime | None], BucketSummary]:
        """Bucket statistics over a minute-aligned range, merged per (group label, output bucket
        start as ``calendar.floor`` gives it), where ``groups`` maps each series id to read onto
        its label; the key ``(label, None)`` holds the label's whole range (the only key when
        ``calendar`` is None). Only rollup rows lying wholly inside one bucket serve it
        (``Calendar.segments``).
        Buckets without data are absent. Each summary carries the bin of every quantile in ``quantiles``, chosen
        from the merged histogram exactly as ``sketch.rank_bins`` chooses."""
        ...

    async def active_users(
        self, tenant: str, time_range: TimeRange, calendar: Calendar
    ) -> tuple[int, dict[datetime, int]]:
        """Distinct users over the minute-aligned range, and per output bucket of ``calendar``."""
        ...


class QuestionReader(Protocol):
    """Answers questions of raw records: measures by dimensions and buckets, filtered."""

    async def answer(self, question: Question) -> list[Cell]:
        """The cells of ``question``, as ``domain.query.evaluate.answer`` gives them from the
        records the store holds: whole-range cells of the first ``limit`` groups in order (then
        ``other``'s), then their bucket cells by group and bucket; empty buckets absent."""
        ...


class JourneyReader(Protocol):
    """Answers questions about each user's path through raw events: funnels and retention."""

    async def funnel(self, question: FunnelQuestion) -> Funnel:
        """The funnel as ``domain.query.funnel.funnel_of`` gives it from the records the store
        holds (its docstring has the rules)."""
        ...

    async def cohort_retention(self, question: RetentionQuestion) -> RetentionTable:
        """The retention table as ``domain.query.retention.retention_of`` gives it from the
        records the store holds (its docstring has the rules)."""
        ...


class EventReader(Protocol):
    """Reads raw events."""

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        """Up to ``first`` events newest first, after the cursor; and whether more follow."""
        ...

    async def count_events(self, query: EventQuery) -> int: ...

    async def event(self, tenant: str, event_id: str) -> Event | None: ...


class TaskReader(Protocol):
    """Reads task state."""

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        """Per user (ordered by user id), the tasks created in the range; whether more users
        follow; and how many users there are in all."""
        ...

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary: ...


class DatasetReader(Protocol):
    """Reads the columns analysis jobs run on."""

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        """The first ``most`` users (by id) with events in the range, for analysis."""
        ...

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        """Up to ``most`` tasks created in the range, oldest first (then by task id)."""
        ...


class Retention(Protocol):
    """Forgets raw records past their retention (rollups stay)."""

    async def purge_raw(self, before: datetime) -> int:
        """Delete raw records that occurred before ``before``; rollups stay."""
        ...


class JobRepository(Protocol):
    """Keeps analysis jobs."""

    async def save_job(self, job: AnalysisJob) -> None:
        """Store an analysis job, replacing the one of the same tenant and id unless that one
        has ended: an ended job is final, whichever process saves it next."""

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None: ...

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        """Up to ``first`` jobs newest first, after the cursor; and whether more follow."""


class DimensionRepository(Protocol):
    """Keeps each tenant's declared dimensions; ``RecordWriter.apply`` splits the rollups of the
    records it writes by them, as they are when the batch commits."""

    async def declare_dimensions(
        self,
        tenant: str,
        kind: str,
        keys: Sequence[str],
        at: datetime,
        max_values: int = DEFAULT_MAX_VALUES,
    ) -> Dimensions:
        """Make ``keys`` the tenant's declared dimensions of ``kind`` (``rollup.EVENT``: event
        properties; ``rollup.METRIC``: metric tags), each to hold at most ``max_values``
        distinct values (past them, a value counts as ``dimensions.OTHER``, and the key is
        marked ``overflowed``): a key declared already keeps its time, a new one is declared
        ``at``, the others are dropped. Returns the tenant's declarations."""
        ...

    async def dimensions(self, tenant: str | None = None) -> Dimensions:
        """The declarations of the tenant (of every tenant if None)."""
        ...


class KeyRepository(Protocol):
    """Keeps API keys (hashes only)."""

    async def save_key(self, key: ApiKey) -> None:
        """Store an API key (by id), replacing the one of the same id (to revoke it)."""
        ...

    async def key(self, key_id: str) -> ApiKey | None: ...

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        """Every key (of the tenant), oldest first."""
        ...


class Lifecycle(Protocol):
    system: str  # the database behind it, as OpenTelemetry names it: "duckdb", "mongodb"

    async def ping(self) -> None:
        """Return when the store answers; raise ``StoreUnavailable`` otherwise."""
        ...

    async def close(self) -> None: ...


class Store(
    RecordWriter,
    PositionKeeper,
    RollupReader,
    QuestionReader,
    JourneyReader,
    EventReader,
    TaskReader,
    DatasetReader,
    Retention,
    JobRepository,
    DimensionRepository,
    KeyRepository,
    Lifecycle,
    Protocol,
):
    """Raw records, rollups, task state and source positions of every tenant.

    ``apply`` is all or nothing: the batch's new raw records, their rollup deltas and the batch's
    source positions are committed together, and a record whose (tenant, id) is already stored
    is neither stored nor counted again. Reads see every committed batch.
    """
