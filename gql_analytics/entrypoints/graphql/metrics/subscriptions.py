"""A metric's aggregation, live."""

from __future__ import annotations

from collections.abc import AsyncGenerator

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain import validation
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    TimeZoneArgument,
    string_tags,
    zone_of,
)
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.live.fields import live, question
from gql_analytics.entrypoints.graphql.metrics.types import MetricAggregation
from gql_analytics.services.answers import MetricResult


@strawberry.subscription(description="A metric's aggregation: now, then whenever it changes.")
async def metric_updates(
    info: Info,
    name: str,
    range: TimeRange | None = None,
    tags: JSON | None = None,
    interval: Interval | None = Interval.HOUR,
    time_zone: TimeZoneArgument = "UTC",
) -> AsyncGenerator[MetricAggregation, None]:
    ctx = info.context
    validation.name(name)
    tag_filter = string_tags(tags)
    width = Interval.or_default(interval, Interval.HOUR)
    zone = zone_of(time_zone)

    async def aggregate(window: DomainTimeRange) -> MetricResult:
        return await ctx.service.metric(ctx.tenant, name, window, width, tag_filter, zone=zone)

    window = range or TimeRange()
    key = question(
        "metricUpdates",
        name,
        window.from_,
        window.to,
        window.last,
        window.whole_days,
        tag_filter,
        width.value,
        zone.key,
    )
    async for result in live(
        ctx, key, window, aggregate, lambda change: name in change.metric_names, zone
    ):
        yield MetricAggregation.from_domain(result)
