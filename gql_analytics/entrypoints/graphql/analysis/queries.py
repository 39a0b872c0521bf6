"""Reading analysis jobs."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.analysis.types import AnalysisJob, AnalysisJobConnection
from gql_analytics.entrypoints.graphql.context import Info


@strawberry.field(description="An analysis job, as it is now (its result once SUCCEEDED).")
async def analysis(info: Info, id: strawberry.ID) -> AnalysisJob | None:
    found = await info.context.analysis.job(info.context.tenant, str(id))
    return AnalysisJob.from_domain(found) if found else None


@strawberry.field(description="Analysis jobs, newest first.")
async def analyses(
    info: Info, first: int | None = 20, after: str | None = None
) -> AnalysisJobConnection:
    cursor = cursors.parse_job_cursor(after) if after is not None else None
    found, more = await info.context.analysis.jobs(
        info.context.tenant, 20 if first is None else first, cursor
    )
    return AnalysisJobConnection.from_domain(found, more)
