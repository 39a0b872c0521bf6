"""Reading tasks."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.common import TimeRange, resolve_range
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.tasks.types import TaskStats, UserTasksConnection


@strawberry.field(description="Per user, the tasks created in the range; ordered by user id.")
async def tasks_per_user(
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
    info: Info, range: TimeRange | None = None, user_id: str | None = None
) -> TaskStats:
    ctx = info.context
    summary = await ctx.service.task_stats(ctx.tenant, resolve_range(range, ctx.service), user_id)
    return TaskStats.from_domain(summary)
