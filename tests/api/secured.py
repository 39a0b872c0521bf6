"""Keys made straight in a server's store, and GraphQL calls made with them."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import httpx

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.domain.keys import new_key
from tests.support import NOW


class Keys:
    """Keys created straight in the server's store, as `gql-analytics keys create` does."""

    def __init__(self, store: DuckDBStore) -> None:
        self.store = store

    async def make(self, tenant: str, role: str) -> str:
        text, key = new_key(tenant, role, NOW)
        await self.store.save_key(key)
        return text

    async def revoke(self, text: str) -> None:
        key = await self.store.key(text.split("_")[1])
        assert key is not None
        await self.store.save_key(replace(key, revoked_at=NOW))


async def call(
    http: httpx.AsyncClient, query: str, key: str | None, header: str = "bearer"
) -> dict[str, Any]:
    headers = {}
    if key is not None:
        headers = {"Authorization": f"Bearer {key}"} if header == "bearer" else {"X-API-Key": key}
    body: dict[str, Any] = (
        await http.post("/graphql", json={"query": query}, headers=headers)
    ).json()
    return body


def code(body: dict[str, Any]) -> str | None:
    errors = body.get("errors")
    return errors[0]["extensions"]["code"] if errors else None
