"""Funnels and retention: per-user scans of raw events."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion
from gql_analytics.domain.timerange import parse_last
from gql_analytics.entrypoints.graphql.common import Interval, TimeRange, resolve_range
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.journeys.filters import JourneyStep
from gql_analytics.entrypoints.graphql.journeys.types import Funnel, Retention
from gql_analytics.errors import InvalidInput, InvalidRange


@strawberry.field(
    description='Users through ordered steps within a conversion window (window: "30m", '
    '"24h", "7d", "2w").'
)
async def funnel(
    info: Info,
    steps: list[JourneyStep],
    range: TimeRange | None = None,
    window: str | None = "1d",
) -> Funnel:
    ctx = info.context
    question = FunnelQuestion(
        ctx.tenant,
        resolve_range(range, ctx.service),
        tuple(step.to_domain(f"steps[{i}]") for i, step in enumerate(steps)),
        _duration(window or "1d"),
    )
    return Funnel.from_domain(question, await ctx.service.funnel(question))


@strawberry.field(
    description="Cohorts by the interval of their first cohort event, and the share of each "
    "back with a returning event in each of the periods after."
)
async def retention(
    info: Info,
    cohort: JourneyStep,
    returning: JourneyStep,
    range: TimeRange | None = None,
    interval: Interval | None = Interval.WEEK,
    periods: int | None = 8,
) -> Retention:
    ctx = info.context
    chosen = interval or Interval.WEEK
    question = RetentionQuestion(
        ctx.tenant,
        resolve_range(range, ctx.service),
        cohort.to_domain("cohort"),
        returning.to_domain("returning"),
        chosen.to_domain(),
        8 if periods is None else periods,
    )
    return Retention.from_domain(await ctx.service.cohort_retention(question), chosen)


def _duration(text: str) -> timedelta:
    try:
        return parse_last(text)
    except InvalidRange as error:
        raise InvalidInput(error.message.replace("last:", "window:", 1), field="window") from error
