"""Creating and revoking API keys (for ``gql-analytics keys`` and the admin mutations)."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import datetime

from gql_analytics.auth.keys import ApiKey, check_role, new_key
from gql_analytics.errors import InvalidInput
from gql_analytics.ports import Store
from gql_analytics.service import utc_now
from gql_analytics.store import open_store


async def create_key(
    store: Store, tenant: str, role: str, now: datetime, name: str | None = None
) -> tuple[str, ApiKey]:
    """A new key of the tenant: its text (shown once) and what was stored."""
    text, key = new_key(tenant, role, now, name)
    await store.save_key(key)
    return text, key


async def revoke_key(store: Store, key_id: str, now: datetime, tenant: str | None = None) -> ApiKey:
    """The key revoked (a revoked key stays revoked as it was); ``InvalidInput`` if there is no
    such key (of the tenant, when one is given)."""
    found = await store.key(key_id)
    if found is None or (tenant is not None and found.tenant != tenant):
        raise InvalidInput(f"id: no API key {key_id}", field="id")
    revoked = replace(found, revoked_at=found.revoked_at or now)
    await store.save_key(revoked)
    return revoked


async def manage_keys(arguments: argparse.Namespace) -> int:
    if arguments.keys_command == "create":
        try:
            check_role(arguments.role)  # before the store is opened (or a file created)
        except InvalidInput as error:
            print(f"keys create: {error.message}", file=sys.stderr)
            return 2
    store = open_store(arguments.store_url)
    try:
        if arguments.keys_command == "create":
            text, key = await create_key(
                store, arguments.tenant, arguments.role, utc_now(), arguments.name
            )
            print(f"created key {key.id} for tenant {key.tenant}, role {key.role}")
            print("it is shown this once; the gateway keeps only its hash:")
            print(text)
            return 0
        if arguments.keys_command == "list":
            for key in await store.keys(arguments.tenant):
                state = f"revoked {key.revoked_at:%Y-%m-%d %H:%M}" if key.revoked_at else "active"
                print(
                    f"{key.id}  {key.tenant}  {key.role:6}  "
                    f"created {key.created_at:%Y-%m-%d %H:%M}  {state}  {key.name or ''}".rstrip()
                )
            return 0
        try:
            found = await revoke_key(store, arguments.key_id, utc_now())
        except InvalidInput:
            print(f"keys revoke: no key {arguments.key_id}", file=sys.stderr)
            return 1
        print(f"revoked key {found.id} (tenant {found.tenant}, role {found.role})")
        return 0
    finally:
        await store.close()
