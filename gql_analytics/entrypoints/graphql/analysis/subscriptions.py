"""A job's progress, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry

from gql_analytics.entrypoints.graphql.analysis.types import AnalysisJob
from gql_analytics.entrypoints.graphql.context import Info


@strawberry.subscription(
    description="An analysis job now, then at each change of state or progress, until it ended."
)
async def analysis_progress(info: Info, id: strawberry.ID) -> AsyncGenerator[AnalysisJob, None]:
    ctx = info.context
    with ctx.place():
        async for job in ctx.analysis.watch(ctx.tenant, str(id)):
            ctx.pushed()
            yield AnalysisJob.from_domain(job)
