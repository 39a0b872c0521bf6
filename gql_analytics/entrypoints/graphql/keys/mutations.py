"""Making and revoking the tenant's API keys."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.keys.types import ApiKey, CreatedApiKey
from gql_analytics.entrypoints.graphql.roles import require_role


@strawberry.mutation(description="A new API key of the caller's tenant (admin only).")
async def create_api_key(info: Info, role: str, name: str | None = None) -> CreatedApiKey:
    require_role(info)
    ctx = info.context
    text, key = await ctx.service.create_api_key(ctx.tenant, role, name)
    return CreatedApiKey(key=text, api_key=ApiKey.from_domain(key))


@strawberry.mutation(description="Revoke an API key of the caller's tenant (admin only).")
async def revoke_api_key(info: Info, id: strawberry.ID) -> ApiKey:
    require_role(info)
    ctx = info.context
    revoked = await ctx.service.revoke_api_key(ctx.tenant, str(id))
    return ApiKey.from_domain(revoked)
