"""Funnels and retention: per-user scans of raw events."""

from __future__ import annotations

from datetime import timedelta

import strawberry

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion
from gql_analytics.domain.timerange import parse_last
from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    TimeZoneArgument,
    resolve_range,
    zone_of,
)
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.journeys.steps import JourneyStep
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
    time_zone: TimeZoneArgument = "UTC",
    periods: int | None = 8,
) -> Retention:
    ctx = info.context
    chosen = interval or Interval.WEEK
    zone = zone_of(time_zone)
    calendar = Calendar(chosen.to_domain(), zone)
    question = RetentionQuestion(
        ctx.tenant,
        resolve_range(range, ctx.service, zone),
        cohort.to_domain("cohort"),
        returning.to_domain("returning"),
        calendar,
        8 if periods is None else periods,
    )
    table = await ctx.service.cohort_retention(question)
    return Retention.from_domain(table, chosen, calendar)


def _duration(text: str) -> timedelta:
    try:
        return parse_last(text)
    except InvalidRange as error:
        raise InvalidInput(error.message.replace("last:", "window:", 1), field="window") from error
