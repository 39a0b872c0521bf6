"""Declaring which attributes split the tenant's rollups."""

from __future__ import annotations

from typing import Annotated

import strawberry

from gql_analytics.domain.dimensions import DEFAULT_MAX_VALUES
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
async def declare_dimensions(
    info: Info,
    of: RecordKind,
    keys: list[str],
    max_values: Annotated[
        int,
        strawberry.argument(
            description="The most distinct values each key splits the rollups by; later "
            'values count as "(other)" there (questions on the key then scan raw records).'
        ),
    ] = DEFAULT_MAX_VALUES,
) -> list[Dimension]:
    require_role(info)
    ctx = info.context
    declared = await ctx.service.declare_dimensions(ctx.tenant, of.value, keys, max_values)
    return Dimension.all_of(declared)
