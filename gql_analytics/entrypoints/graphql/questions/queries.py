"""Any question of events or metric points: measures by dimensions and buckets, filtered."""

from __future__ import annotations

import strawberry

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.question import Question
from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    TimeZoneArgument,
    resolve_range,
    zone_of,
)
from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.questions.types import (
    Breakdown,
    Condition,
    DimensionInput,
    MeasureInput,
    OrderInput,
    RecordKind,
)


@strawberry.field(
    description="Measures of events or metric points grouped by dimensions (and by bucket when "
    "an interval is given), filtered by where, over a range; the first limit groups in order, "
    "and the rest merged into one group when withOther. extensions.plan says how it was read."
)
async def aggregate(
    info: Info,
    of: RecordKind,
    measures: list[MeasureInput],
    names: list[str] | None = None,
    group_by: list[DimensionInput] | None = None,
    where: Condition | None = None,
    range: TimeRange | None = None,
    interval: Interval | None = None,
    time_zone: TimeZoneArgument = "UTC",
    order_by: OrderInput | None = None,
    limit: int = 100,
    with_other: bool = False,
) -> Breakdown:
    ctx = info.context
    zone = zone_of(time_zone)
    question = Question(
        tenant=ctx.tenant,
        kind=of.value,
        measures=tuple(m.to_domain(of) for m in measures),
        time_range=resolve_range(range, ctx.service, zone),
        names=None if names is None else tuple(dict.fromkeys(names)),
        dimensions=tuple(d.to_domain() for d in group_by or ()),
        calendar=None if interval is None else Calendar(interval.to_domain(), zone),
        where=None if where is None else where.to_domain(),
        order=(order_by or OrderInput()).to_domain(),
        limit=limit,
        other=with_other,
    )
    answer = await ctx.service.aggregate(question)
    ctx.plans.append({"field": info.path.key, **answer.plan})
    return Breakdown.from_domain(answer)
