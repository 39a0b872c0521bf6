"""Creating and revoking API keys (for ``gql-analytics keys`` and the admin mutations)."""

from __future__ import annotations

import argparse
import sys

from gql_analytics.adapters.stores import open_store
from gql_analytics.domain.keys import check_role
from gql_analytics.errors import InvalidInput
from gql_analytics.services.analytics import utc_now
from gql_analytics.services.auth.keyring import create_key, revoke_key


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
