"""Reading metrics."""

from __future__ import annotations

import strawberry
from strawberry.scalars import JSON

from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    TimeZoneArgument,
    resolve_range,
    string_tags,
    zone_of,
)
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.metrics.types import MetricAggregation, MetricInfo


@strawberry.field(description="Aggregates of one metric, per bucket and optionally per tag value.")
async def metric(
    info: Info,
    name: str,
    range: TimeRange | None = None,
    interval: Interval | None = Interval.HOUR,
    tags: JSON | None = None,
    group_by_tag: str | None = None,
    time_zone: TimeZoneArgument = "UTC",
) -> MetricAggregation:
    ctx = info.context
    zone = zone_of(time_zone)
    result = await ctx.service.metric(
        ctx.tenant,
        name,
        resolve_range(range, ctx.service, zone),
        Interval.or_default(interval, Interval.HOUR),
        string_tags(tags),
        group_by_tag,
        zone=zone,
    )
    return MetricAggregation.from_domain(result)


@strawberry.field
async def metrics(info: Info) -> list[MetricInfo]:
    return [
        MetricInfo.from_domain(m) for m in await info.context.service.metrics(info.context.tenant)
    ]
