"""Reading API keys."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.keys.types import ApiKey
from gql_analytics.entrypoints.graphql.roles import require_role


@strawberry.field(description="The API keys of the caller's tenant (admin only).")
async def api_keys(info: Info) -> list[ApiKey]:
    require_role(info)
    found = await info.context.service.api_keys(info.context.tenant)
    return [ApiKey.from_domain(key) for key in found]
