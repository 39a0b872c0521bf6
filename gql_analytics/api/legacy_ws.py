"""The legacy ``graphql-ws`` protocol with the ``connection_init`` deadline that Strawberry gives
only ``graphql-transport-ws``: a socket that never initialises is closed (4408), not kept."""

from __future__ import annotations

import asyncio
import contextlib

from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gql_analytics.api.context import Context


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle(self) -> None:
        deadline = asyncio.create_task(self._close_unless_initialised())
        try:
            await super().handle()
        finally:
            deadline.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await deadline

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
