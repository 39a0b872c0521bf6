"""The service layer: what resolvers call. It speaks domain types and owns no I/O of its own."""

from __future__ import annotations

import asyncio
import copy
from collections import defaultdict
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from gql_analytics.domain import validation
from gql_analytics.domain.calendar import UTC_ZONE, Calendar, whole_local_days
from gql_analytics.domain.dimensions import DEFAULT_MAX_VALUES, Dimensions, check_keys
from gql_analytics.domain.drafts import Draft
from gql_analytics.domain.keys import ApiKey
from gql_analytics.domain.normalize import Origin
from gql_analytics.domain.records import TASK_COMPLETED, TASK_CREATED, TASK_UPDATED, Event, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.domain.validation import Limits
from gql_analytics.errors import CostLimitExceeded, InvalidInput, InvalidRange, InvalidRecord
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import (
    Dependency,
    EventCursor,
    EventQuery,
    IngestMonitor,
    IngestSink,
    IngestTotals,
    PartitionStatus,
    Store,
    TaskSummary,
    UserTaskCounts,
    Version,
)
from gql_analytics.services.answers import (
    CountSeries,
    DashboardSummary,
    MetricSummary,
    TrackOutcome,
)
from gql_analytics.services.auth.keyring import create_key, revoke_key
from gql_analytics.services.batching import SameTurn
from gql_analytics.services.dependencies import Reads
from gql_analytics.services.questions import Questions

MAX_BATCH = 1000
TASK_EVENTS = (TASK_COMPLETED, TASK_CREATED, TASK_UPDATED)


_Count = tuple[str, str, TimeRange]
"""(tenant, event name, whole-minute range): one count asked of ``event_count``."""


def utc_now() -> datetime:
    return datetime.now(UTC)


class AnalyticsService(Questions):
    def __init__(
        self,
        store: Store,
        sink: IngestSink,
        *,
        monitor: IngestMonitor | None = None,
        retention: timedelta | None = None,
        clock: Callable[[], datetime] = utc_now,
        metrics: Metrics | None = None,
        max_points: int | None = None,
        max_scan_rows: int | None = None,
    ) -> None:
        """``max_points``: the most points (series times buckets) one answer may hold, checked
        where the number of series is known only once it is read (None: no bound)."""
        self.meters = metrics  # (``metrics`` is the query of metric names)
        self.max_points = max_points
        self.max_scan_rows = max_scan_rows
        self._store = store
        self.sink = sink
        self.monitor = monitor
        self.retention = retention
        self.clock = clock
        self._counts: tuple[asyncio.AbstractEventLoop, SameTurn[_Count, int]] | None = None
        self._reads: Reads | None = None  # what an answer meant for the cache reads

    def recording(self) -> tuple[AnalyticsService, Reads]:
        """This service for one answer meant for the cache: it records in the ``Reads`` what
        the answer depends on, as it reads it."""
        recorder = copy.copy(self)
        recorder._reads = reads = Reads()
        return recorder, reads

    # -- ingest ---------------------------------------------------------------------------------

    async def track(
        self, tenant: str, drafts: Sequence[Draft], *, wait: bool = False
    ) -> TrackOutcome:
        """Validate every draft; send the valid ones on in one go; report the others by index.

        Returns once they are durable (see ``IngestSink.submit``; ``wait`` asks for applied)."""
        if len(drafts) > MAX_BATCH:
            raise InvalidInput(
                f"inputs: at most {MAX_BATCH} items per batch, got {len(drafts)}", field="inputs"
            )
        origin = Origin(tenant=tenant, limits=Limits(self.clock(), self.retention), source="api")
        records: list[Record] = []
        errors: list[tuple[int, InvalidRecord]] = []
        for index, draft in enumerate(drafts):
            try:
                records.append(draft.build(origin))
            except InvalidRecord as error:
                errors.append((index, error))
        if errors and self.meters is not None:
            self.meters.records.labels("rejected").inc(len(errors))
        await self.sink.submit(records, wait=wait)
        return TrackOutcome([record.id for record in records], errors)

    async def track_one(self, tenant: str, draft: Draft, *, wait: bool = False) -> TrackOutcome:
        outcome = await self.track(tenant, [draft], wait=wait)
        if outcome.errors:
            raise outcome.errors[0][1]
        return outcome

    # -- time -----------------------------------------------------------------------------------

    def time_range(
        self,
        start: datetime | None = None,
        end: datetime | None = None,
        last: str | None = None,
        *,
        whole_days_in: ZoneInfo | None = None,
    ) -> TimeRange:
        """``whole_days_in``: ``last`` as whole local days of that zone (``whole_local_days``)."""
        now = self.clock()
        reads = self._reads
        if reads is not None and (end is None or last is not None):  # a range that ends now
            reads.minute = now.replace(second=0, microsecond=0)
        resolved = TimeRange.resolve(start=start, end=end, last=last, now=now)
        if whole_days_in is None:
            return resolved
        if start is not None or last is None:
            raise InvalidRange("range: wholeDays goes with last, such as '7d'", field="range")
        return whole_local_days(resolved, whole_days_in)

    # -- what answers depend on -----------------------------------------------------------------

    async def _depend(self, tenant: str, kind: str, names: Sequence[str] | None = None) -> None:
        """When the answer is meant for the cache, stamp the series it is about to read."""
        reads = self._reads
        if reads is None:
            return
        dependency = Dependency(tenant, kind, None if names is None else tuple(sorted(set(names))))
        if dependency not in reads.versions:
            (reads.versions[dependency],) = await self._store.versions([dependency])

    async def still_current(self, versions: Sequence[tuple[Dependency, Version]]) -> bool:
        """Whether every series an answer read is still at the version it read."""
        current = await self._store.versions([dependency for dependency, _ in versions])
        return current == [version for _, version in versions]

    # -- keys -----------------------------------------------------------------------------------

    async def api_keys(self, tenant: str) -> list[ApiKey]:
        return await self._store.keys(tenant)

    async def create_api_key(self, tenant: str, role: str, name: str | None) -> tuple[str, ApiKey]:
        """A new key of the tenant: its text (shown once) and what is stored of it."""
        return await create_key(self._store, tenant, role, self.clock(), name)

    async def revoke_api_key(self, tenant: str, key_id: str) -> ApiKey:
        return await revoke_key(self._store, key_id, self.clock(), tenant)

    # -- dimensions -----------------------------------------------------------------------------

    async def dimensions(self, tenant: str) -> Dimensions:
        return await self._store.dimensions(tenant)

    async def declare_dimensions(
        self, tenant: str, kind: str, keys: Sequence[str], max_values: int = DEFAULT_MAX_VALUES
    ) -> Dimensions:
        checked = check_keys(kind, keys, max_values)
        return await self._store.declare_dimensions(tenant, kind, checked, self.clock(), max_values)

    # -- events ---------------------------------------------------------------------------------

    async def event_counts(
        self,
        tenant: str,
        names: Sequence[str] | None,
        time_range: TimeRange,
        interval: Interval,
        *,
        zone: ZoneInfo = UTC_ZONE,
    ) -> list[CountSeries]:
        validation.names_asked(names)
        await self._depend(tenant, EVENT, names)
        window = time_range.to_minutes()
        calendar = Calendar(interval, zone)
        buckets = calendar.buckets(window)
        known = await self._store.series(tenant, EVENT, names)
        self._within_points(len(names) if names is not None else len(known), len(buckets))
        stats = await self._store.rollup_stats(
            {s.id: s.key.name for s in known},
            window,
            calendar,
        )
        wanted = (
            list(dict.fromkeys(names)) if names is not None else sorted(s.key.name for s in known)
        )
        series = []
        for name in wanted:
            points = [(b, stats[(name, b)].count if (name, b) in stats else 0) for b in buckets]
            series.append(CountSeries(name, sum(n for _, n in points), points))
        return series

    def _within_points(self, series: int, buckets: int) -> None:
        points = series * buckets
        if self.max_points is not None and points > self.max_points:
            raise CostLimitExceeded(
                f"the answer would hold {series:,} series of {buckets:,} buckets, {points:,} "
                f"points, past the limit of {self.max_points:,}: name fewer series or choose a "
                "coarser interval"
            )

    async def event_count(self, tenant: str, name: str, time_range: TimeRange) -> int:
        """Counts asked at the same moment (the live subscriptions that one commit woke) are
        read together: one query per tenant and range, whatever the names."""
        await self._depend(tenant, EVENT, [name])
        loop = asyncio.get_running_loop()
        if self._counts is None or self._counts[0] is not loop:
            self._counts = loop, SameTurn(self._read_counts)
        return await self._counts[1].load((tenant, name, time_range.to_minutes()))

    async def _read_counts(self, asked: Sequence[_Count]) -> list[int]:
        names: defaultdict[tuple[str, TimeRange], list[str]] = defaultdict(list)
        for tenant, name, window in asked:
            names[(tenant, window)].append(name)
        totals = {
            (tenant, window): await self._read_totals(tenant, wanted, window)
            for (tenant, window), wanted in names.items()
        }
        return [totals[(tenant, window)].get(name, 0) for tenant, name, window in asked]

    async def top_events(
        self, tenant: str, time_range: TimeRange, limit: int
    ) -> list[tuple[str, int]]:
        if not 1 <= limit <= 500:
            raise InvalidInput("limit: must be between 1 and 500", field="limit")
        totals = await self._event_totals(tenant, None, time_range)
        return sorted(totals.items(), key=lambda t: (-t[1], t[0]))[:limit]

    async def _event_totals(
        self, tenant: str, names: Sequence[str] | None, time_range: TimeRange
    ) -> dict[str, int]:
        """Events per name over the whole range, from rollups (names absent count nothing)."""
        await self._depend(tenant, EVENT, names)
        return await self._read_totals(tenant, names, time_range.to_minutes())

    async def _read_totals(
        self, tenant: str, names: Sequence[str] | None, window: TimeRange
    ) -> dict[str, int]:
        known = await self._store.series(tenant, EVENT, names)
        stats = await self._store.rollup_stats({s.id: s.key.name for s in known}, window, None)
        return {label: s.count for (label, _), s in stats.items()}

    async def active_users(
        self, tenant: str, time_range: TimeRange, interval: Interval, *, zone: ZoneInfo = UTC_ZONE
    ) -> tuple[int, list[tuple[datetime, int]]]:
        await self._depend(tenant, EVENT)
        window = time_range.to_minutes()
        calendar = Calendar(interval, zone)
        buckets = calendar.buckets(window)
        total, per_bucket = await self._store.active_users(tenant, window, calendar)
        return total, [(b, per_bucket.get(b, 0)) for b in buckets]

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool, int]:
        if not 0 <= first <= 500:
            raise InvalidInput("first: must be between 0 and 500", field="first")
        validation.names_asked(query.names)
        await self._depend(query.tenant, EVENT, query.names)
        page, has_next = await self._store.events(query, first, after)
        return page, has_next, await self._store.count_events(query)

    async def event(self, tenant: str, event_id: str) -> Event | None:
        await self._depend(tenant, EVENT)
        return await self._store.event(tenant, event_id)

    # -- metrics --------------------------------------------------------------------------------

    async def metrics(self, tenant: str) -> list[MetricSummary]:
        await self._depend(tenant, METRIC)
        summaries: dict[str, MetricSummary] = {}
        for info in await self._store.series(tenant, METRIC):
            known = summaries.get(info.key.name)
            summaries[info.key.name] = MetricSummary(
                info.key.name,
                info.count + (known.count if known else 0),
                _latest(info.last_seen, known.last_seen if known else None),
            )
        return list(summaries.values())

    # -- tasks ----------------------------------------------------------------------------------

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        if not 0 <= first <= 500:
            raise InvalidInput("first: must be between 0 and 500", field="first")
        await self._depend(tenant, EVENT, TASK_EVENTS)
        return await self._store.tasks_per_user(tenant, time_range, first, after_user)

    async def task_stats(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        await self._depend(tenant, EVENT, TASK_EVENTS)
        return await self._store.task_summary(tenant, time_range, user_id)

    # -- ingestion ------------------------------------------------------------------------------

    async def ingest_status(self) -> tuple[list[PartitionStatus], IngestTotals] | None:
        """The Kafka consumer's progress in this process; None when none runs here."""
        if self.monitor is None:
            return None
        return await self.monitor.status(), self.monitor.totals

    # -- overview -------------------------------------------------------------------------------

    async def dashboard(self, tenant: str) -> DashboardSummary:
        await self._depend(tenant, EVENT)
        await self._depend(tenant, METRIC)
        events = await self._store.series(tenant, EVENT)
        metrics = await self._store.series(tenant, METRIC)
        return DashboardSummary(
            total_events=sum(s.count for s in events),
            total_metric_points=sum(s.count for s in metrics),
            event_names=sorted({s.key.name for s in events}),
            metric_names=sorted({s.key.name for s in metrics}),
            generated_at=self.clock(),
        )


def _latest(a: datetime | None, b: datetime | None) -> datetime | None:
    return max((m for m in (a, b) if m is not None), default=None)
