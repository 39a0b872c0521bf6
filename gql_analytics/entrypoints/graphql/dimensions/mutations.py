"""Declaring which attributes split the tenant's rollups."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.dimensions.types import Dimension
from gql_analytics.entrypoints.graphql.questions.types import RecordKind
from gql_analytics.entrypoints.graphql.roles import require_role


@strawberry.mutation(
    description="Make keys the event properties (of: EVENTS) or metric tags (of: METRICS) the "
    "rollups of records written from now on are split by; keys declared already keep their "
    "time, others are dropped. An attribute with many values (a user or request id) is better "
    "left undeclared: questions on it scan raw records (admin only)."
)
async def declare_dimensions(info: Info, of: RecordKind, keys: list[str]) -> list[Dimension]:
    require_role(info)
    ctx = info.context
    return Dimension.all_of(await ctx.service.declare_dimensions(ctx.tenant, of.value, keys))
