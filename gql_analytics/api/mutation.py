"""Ingest mutations: they return once their records are committed."""

from __future__ import annotations

from collections.abc import Sequence

import strawberry

from gql_analytics.api.context import Info
from gql_analytics.api.inputs import EventInput, MetricInput
from gql_analytics.api.types import ItemError, TrackResult
from gql_analytics.service import Draft, TrackOutcome


def _result(outcome: TrackOutcome) -> TrackResult:
    return TrackResult(
        accepted=len(outcome.ids),
        ids=outcome.ids,
        errors=[ItemError.from_domain(index, error) for index, error in outcome.errors],
    )


async def _track_many(info: Info, drafts: Sequence[Draft]) -> TrackResult:
    return _result(await info.context.service.track(info.context.tenant, drafts))


async def _track_one(info: Info, draft: Draft) -> TrackResult:
    return _result(await info.context.service.track_one(info.context.tenant, draft))


@strawberry.type
class Mutation:
    @strawberry.mutation(description="Record one event; a bad input is a BAD_USER_INPUT error.")
    async def track_event(self, info: Info, input: EventInput) -> TrackResult:
        return await _track_one(info, input)

    @strawberry.mutation(description="Record up to 1000 events; bad items are reported by index.")
    async def track_events(self, info: Info, inputs: list[EventInput]) -> TrackResult:
        return await _track_many(info, inputs)

    @strawberry.mutation(description="Record one metric point.")
    async def record_metric(self, info: Info, input: MetricInput) -> TrackResult:
        return await _track_one(info, input)

    @strawberry.mutation(description="Record up to 1000 metric points; bad items are reported.")
    async def record_metrics(self, info: Info, inputs: list[MetricInput]) -> TrackResult:
        return await _track_many(info, inputs)
