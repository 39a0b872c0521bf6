"""Keys made and revoked in a store: by admins over GraphQL and by ``gql-analytics keys``."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from gql_analytics.domain.keys import ApiKey, new_key
from gql_analytics.errors import InvalidInput
from gql_analytics.ports import KeyRepository


async def create_key(
    store: KeyRepository, tenant: str, role: str, now: datetime, name: str | None = None
) -> tuple[str, ApiKey]:
    """A new key of the tenant: its text (shown once) and what was stored."""
    text, key = new_key(tenant, role, now, name)
    await store.save_key(key)
    return text, key


async def revoke_key(
    store: KeyRepository, key_id: str, now: datetime, tenant: str | None = None
) -> ApiKey:
    """The key revoked (a revoked key stays revoked as it was); ``InvalidInput`` if there is no
    such key (of the tenant, when one is given)."""
    found = await store.key(key_id)
    if found is None or (tenant is not None and found.tenant != tenant):
        raise InvalidInput(f"id: no API key {key_id}", field="id")
    revoked = replace(found, revoked_at=found.revoked_at or now)
    await store.save_key(revoked)
    return revoked
