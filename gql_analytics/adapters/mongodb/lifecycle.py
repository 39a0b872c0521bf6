"""``MongoStore``'s health and end."""

from __future__ import annotations

from gql_analytics.adapters.mongodb.database import Database


class Lifecycle(Database):
    """``Lifecycle`` (but ``system``, which the store names)."""

    async def ping(self) -> None:
        async with self._guard():
            await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()
