"""``gql-analytics keys``: create, list and revoke API keys straight in the store."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from gql_analytics.auth.keys import ROLES, new_key
from gql_analytics.service import utc_now
from gql_analytics.store import open_store


async def manage_keys(arguments: argparse.Namespace) -> int:
    if arguments.keys_command == "create" and arguments.role not in ROLES:
        print(f"keys create: --role is one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    store = open_store(arguments.store_url)
    try:
        if arguments.keys_command == "create":
            text, key = new_key(arguments.tenant, arguments.role, utc_now(), arguments.name)
            await store.save_key(key)
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
        found = await store.key(arguments.key_id)
        if found is None:
            print(f"keys revoke: no key {arguments.key_id}", file=sys.stderr)
            return 1
        await store.save_key(replace(found, revoked_at=found.revoked_at or utc_now()))
        print(f"revoked key {found.id} (tenant {found.tenant}, role {found.role})")
        return 0
    finally:
        await store.close()
