"""API keys as an admin sees them through GraphQL (never their secrets, but once)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql_analytics.domain import keys


@strawberry.type(description="An API key, without its secret.")
class ApiKey:
    id: strawberry.ID
    tenant: str
    role: str
    name: str | None
    created_at: datetime
    revoked_at: datetime | None

    @classmethod
    def from_domain(cls, key: keys.ApiKey) -> ApiKey:
        return cls(
            id=strawberry.ID(key.id),
            tenant=key.tenant,
            role=key.role,
            name=key.name,
            created_at=key.created_at,
            revoked_at=key.revoked_at,
        )


@strawberry.type
class CreatedApiKey:
    key: str = strawberry.field(description="The key itself: shown this once, never again.")
    api_key: ApiKey
