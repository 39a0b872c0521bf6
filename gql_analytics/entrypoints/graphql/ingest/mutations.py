"""Ingest mutations: they return once their records are committed."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import strawberry

from gql_analytics.domain.drafts import Draft
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.ingest.types import (
    EventInput,
    ItemError,
    MetricInput,
    TrackResult,
)
from gql_analytics.entrypoints.graphql.roles import require_role
from gql_analytics.services.answers import TrackOutcome


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


@strawberry.mutation(description="Record one event; a bad input is a BAD_USER_INPUT error.")
async def track_event(
    info: Info, input: EventInput, wait: Annotated[bool | None, WAIT] = False
) -> TrackResult:
    return await _track_one(info, input.to_draft(), wait)


@strawberry.mutation(description="Record up to 1000 events; bad items are reported by index.")
async def track_events(
    info: Info, inputs: list[EventInput], wait: Annotated[bool | None, WAIT] = False
) -> TrackResult:
    return await _track_many(info, [i.to_draft() for i in inputs], wait)


@strawberry.mutation(description="Record one metric point.")
async def record_metric(
    info: Info, input: MetricInput, wait: Annotated[bool | None, WAIT] = False
) -> TrackResult:
    return await _track_one(info, input.to_draft(), wait)


@strawberry.mutation(description="Record up to 1000 metric points; bad items are reported.")
async def record_metrics(
    info: Info, inputs: list[MetricInput], wait: Annotated[bool | None, WAIT] = False
) -> TrackResult:
    return await _track_many(info, [i.to_draft() for i in inputs], wait)
