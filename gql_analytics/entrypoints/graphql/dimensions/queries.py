"""The tenant's declared dimensions."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.dimensions.types import Dimension


@strawberry.field(description="The event properties and metric tags the rollups are split by.")
async def dimensions(info: Info) -> list[Dimension]:
    ctx = info.context
    return Dimension.all_of(await ctx.service.dimensions(ctx.tenant))
