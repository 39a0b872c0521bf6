"""Starting and stopping analysis jobs."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gql_analytics.entrypoints.graphql.analysis.types import AnalysisInput, AnalysisJob
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.roles import require_role


@strawberry.mutation(
    description="Start an analysis over stored data or inline rows. Bad input is a "
    "BAD_USER_INPUT error and starts nothing; otherwise the job is returned QUEUED (with "
    "wait: true, once it ended). It runs in a worker process, within the server's limits."
)
async def run_analysis(
    info: Info,
    input: AnalysisInput,
    wait: Annotated[
        bool | None, strawberry.argument(description="Return once the job ended.")
    ] = False,
) -> AnalysisJob:
    require_role(info)
    ctx = info.context
    request = input.to_request(ctx.service)
    return AnalysisJob.from_domain(await ctx.analysis.submit(ctx.tenant, request, wait=bool(wait)))


@strawberry.mutation(
    description="Stop an analysis: a queued or running job ends CANCELLED (its computation "
    "is killed); one that already ended is returned as it is."
)
async def cancel_analysis(info: Info, id: strawberry.ID) -> AnalysisJob:
    require_role(info)
    return AnalysisJob.from_domain(await info.context.analysis.cancel(info.context.tenant, str(id)))
