"""Query resolvers: a few lines each, calling the service layer."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.access import require_role
from gql_analytics.entrypoints.graphql.analysis import AnalysisJob, AnalysisJobConnection
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.inputs import (
    EventFilter,
    TimeRange,
    resolve_range,
    string_tags,
)
from gql_analytics.entrypoints.graphql.keys import ApiKey
from gql_analytics.entrypoints.graphql.types import (
    ActiveUsers,
    CountPoint,
    Dashboard,
    Event,
    EventConnection,
    EventSeries,
    IngestStatus,
    Interval,
    MetricAggregation,
    MetricInfo,
    TaskStats,
    TopEvent,
    UserTasksConnection,
)


@strawberry.type
class Query:
    @strawberry.field(description="An analysis job, as it is now (its result once SUCCEEDED).")
    async def analysis(self, info: Info, id: strawberry.ID) -> AnalysisJob | None:
        found = await info.context.analysis.job(info.context.tenant, str(id))
        return AnalysisJob.from_domain(found) if found else None

    @strawberry.field(description="Analysis jobs, newest first.")
    async def analyses(
        self, info: Info, first: int | None = 20, after: str | None = None
    ) -> AnalysisJobConnection:
        cursor = cursors.parse_job_cursor(after) if after is not None else None
        found, more = await info.context.analysis.jobs(
            info.context.tenant, 20 if first is None else first, cursor
        )
        return AnalysisJobConnection.from_domain(found, more)

    @strawberry.field(description="The API keys of the caller's tenant (admin only).")
    async def api_keys(self, info: Info) -> list[ApiKey]:
        require_role(info)
        found = await info.context.service.api_keys(info.context.tenant)
        return [ApiKey.from_domain(key) for key in found]

    @strawberry.field(description="Raw events, newest first.")
    async def events(
        self,
        info: Info,
        filter: EventFilter | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> EventConnection:
        ctx = info.context
        query = (filter or EventFilter()).to_query(ctx.tenant, ctx.service)
        cursor = cursors.parse_event_cursor(after) if after is not None else None
        return EventConnection.from_domain(
            *await ctx.service.events(query, 50 if first is None else first, cursor)
        )

    @strawberry.field
    async def event(self, info: Info, id: strawberry.ID) -> Event | None:
        found = await info.context.service.event(info.context.tenant, str(id))
        return Event.from_domain(found) if found else None

    @strawberry.field(description="Counts per bucket for each event name (all names if omitted).")
    async def event_counts(
        self,
        info: Info,
        names: list[str] | None = None,
        range: TimeRange | None = None,
        interval: Interval | None = Interval.HOUR,
    ) -> list[EventSeries]:
        ctx = info.context
        series = await ctx.service.event_counts(
            ctx.tenant,
            names,
            resolve_range(range, ctx.service),
            Interval.or_default(interval, Interval.HOUR),
        )
        return [EventSeries.from_domain(s) for s in series]

    @strawberry.field
    async def top_events(
        self, info: Info, range: TimeRange | None = None, limit: int | None = 10
    ) -> list[TopEvent]:
        ctx = info.context
        top = await ctx.service.top_events(
            ctx.tenant, resolve_range(range, ctx.service), 10 if limit is None else limit
        )
        return [TopEvent(name=name, count=count) for name, count in top]

    @strawberry.field(description="Distinct users with at least one event, overall and per bucket.")
    async def active_users(
        self, info: Info, range: TimeRange | None = None, interval: Interval | None = Interval.DAY
    ) -> ActiveUsers:
        ctx = info.context
        total, points = await ctx.service.active_users(
            ctx.tenant,
            resolve_range(range, ctx.service),
            Interval.or_default(interval, Interval.DAY),
        )
        return ActiveUsers(total=total, points=[CountPoint(bucket=b, count=n) for b, n in points])

    @strawberry.field(
        description="Aggregates of one metric, per bucket and optionally per tag value."
    )
    async def metric(
        self,
        info: Info,
        name: str,
        range: TimeRange | None = None,
        interval: Interval | None = Interval.HOUR,
        tags: JSON | None = None,
        group_by_tag: str | None = None,
    ) -> MetricAggregation:
        ctx = info.context
        result = await ctx.service.metric(
            ctx.tenant,
            name,
            resolve_range(range, ctx.service),
            Interval.or_default(interval, Interval.HOUR),
            string_tags(tags),
            group_by_tag,
        )
        return MetricAggregation.from_domain(result)

    @strawberry.field
    async def metrics(self, info: Info) -> list[MetricInfo]:
        return [
            MetricInfo.from_domain(m)
            for m in await info.context.service.metrics(info.context.tenant)
        ]

    @strawberry.field(description="Per user, the tasks created in the range; ordered by user id.")
    async def tasks_per_user(
        self,
        info: Info,
        range: TimeRange | None = None,
        first: int | None = 50,
        after: str | None = None,
    ) -> UserTasksConnection:
        ctx = info.context
        after_user = cursors.parse_user_cursor(after) if after is not None else None
        page = await ctx.service.tasks_per_user(
            ctx.tenant,
            resolve_range(range, ctx.service),
            50 if first is None else first,
            after_user,
        )
        return UserTasksConnection.from_domain(*page)

    @strawberry.field(description="Tasks created in the range and how long completed ones took.")
    async def task_stats(
        self, info: Info, range: TimeRange | None = None, user_id: str | None = None
    ) -> TaskStats:
        ctx = info.context
        summary = await ctx.service.task_stats(
            ctx.tenant, resolve_range(range, ctx.service), user_id
        )
        return TaskStats.from_domain(summary)

    @strawberry.field(description="Progress of the Kafka consumer running in this process.")
    async def ingest_status(self, info: Info) -> IngestStatus:
        require_role(info)
        return IngestStatus.from_domain(await info.context.service.ingest_status())

    @strawberry.field
    async def dashboard(self, info: Info) -> Dashboard:
        return Dashboard.from_domain(await info.context.service.dashboard(info.context.tenant))
