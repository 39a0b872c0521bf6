"""Ingest mutations: they return once their records are committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from gql_analytics.domain.drafts import Draft
from gql_analytics.entrypoints.graphql.access import require_role
from gql_analytics.entrypoints.graphql.analysis import AnalysisInput, AnalysisJob
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.inputs import EventInput, MetricInput
from gql_analytics.entrypoints.graphql.keys import ApiKey, CreatedApiKey
from gql_analytics.entrypoints.graphql.types import ItemError, TrackResult
from gql_analytics.services.analytics import TrackOutcome


def _result(outcome: TrackOutcome) -> TrackResult:
    return TrackResult(
        accepted=len(outcome.ids),
        ids=outcome.ids,
        errors=[ItemError.from_domain(index, error) for index, error in outcome.errors],
    )


async def _track_many(info: Info, drafts: Sequence[Draft], wait: bool | None) -> TrackResult:
    require_role(info)
    ctx = info.context
    return _result(await ctx.service.track(ctx.tenant, drafts, wait=bool(wait)))


async def _track_one(info: Info, draft: Draft, wait: bool | None) -> TrackResult:
    require_role(info)
    ctx = info.context
    return _result(await ctx.service.track_one(ctx.tenant, draft, wait=bool(wait)))


WAIT = strawberry.argument(
    description="With Kafka on, also wait until the records are applied (read-your-writes); "
    "without Kafka, mutations always return after the records are committed."
)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record one event; a bad input is a BAD_USER_INPUT error.")
    async def track_event(
        self, info: Info, input: EventInput, wait: Annotated[bool | None, WAIT] = False
    ) -> TrackResult:
        return await _track_one(info, input.to_draft(), wait)

    @strawberry.mutation(description="Record up to 1000 events; bad items are reported by index.")
    async def track_events(
        self, info: Info, inputs: list[EventInput], wait: Annotated[bool | None, WAIT] = False
    ) -> TrackResult:
        return await _track_many(info, [i.to_draft() for i in inputs], wait)

    @strawberry.mutation(description="Record one metric point.")
    async def record_metric(
        self, info: Info, input: MetricInput, wait: Annotated[bool | None, WAIT] = False
    ) -> TrackResult:
        return await _track_one(info, input.to_draft(), wait)

    @strawberry.mutation(description="Record up to 1000 metric points; bad items are reported.")
    async def record_metrics(
        self, info: Info, inputs: list[MetricInput], wait: Annotated[bool | None, WAIT] = False
    ) -> TrackResult:
        return await _track_many(info, [i.to_draft() for i in inputs], wait)

    @strawberry.mutation(
        description="Start an analysis over stored data or inline rows. Bad input is a "
        "BAD_USER_INPUT error and starts nothing; otherwise the job is returned QUEUED (with "
        "wait: true, once it ended). It runs in a worker process, within the server's limits."
    )
    async def run_analysis(
        self,
        info: Info,
        input: AnalysisInput,
        wait: Annotated[
            bool | None, strawberry.argument(description="Return once the job ended.")
        ] = False,
    ) -> AnalysisJob:
        require_role(info)
        ctx = info.context
        request = input.to_request(ctx.service)
        return AnalysisJob.from_domain(
            await ctx.analysis.submit(ctx.tenant, request, wait=bool(wait))
        )

    @strawberry.mutation(
        description="Stop an analysis: a queued or running job ends CANCELLED (its computation "
        "is killed); one that already ended is returned as it is."
    )
    async def cancel_analysis(self, info: Info, id: strawberry.ID) -> AnalysisJob:
        require_role(info)
        return AnalysisJob.from_domain(
            await info.context.analysis.cancel(info.context.tenant, str(id))
        )

    @strawberry.mutation(description="A new API key of the caller's tenant (admin only).")
    async def create_api_key(self, info: Info, role: str, name: str | None = None) -> CreatedApiKey:
        require_role(info)
        ctx = info.context
        text, key = await ctx.service.create_api_key(ctx.tenant, role, name)
        return CreatedApiKey(key=text, api_key=ApiKey.from_domain(key))

    @strawberry.mutation(description="Revoke an API key of the caller's tenant (admin only).")
    async def revoke_api_key(self, info: Info, id: strawberry.ID) -> ApiKey:
        require_role(info)
        ctx = info.context
        revoked = await ctx.service.revoke_api_key(ctx.tenant, str(id))
        return ApiKey.from_domain(revoked)
