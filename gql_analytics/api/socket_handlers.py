"""The two WebSocket protocols' handlers, with what Strawberry leaves to us:

- while a socket lives, its view's guard runs beside it (the credential it opened with is
  checked again from time to time, and the socket closed when it no longer holds);
- the legacy ``graphql-ws`` protocol gets the ``connection_init`` deadline that Strawberry gives
  only ``graphql-transport-ws``: a socket that never initialises is closed (4408), not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gql_analytics.api.context import Context


class SocketGuard(Protocol):
    async def guard_socket(self, context: Context, websocket: AsyncWebSocketAdapter) -> None:
        """Runs while the socket lives; may close it."""


async def _beside(handle: Callable[[], Awaitable[None]], *watchers: Awaitable[None]) -> None:
    tasks = [asyncio.ensure_future(watcher) for watcher in watchers]
    try:
        await handle()
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        await _beside(super().handle, guard)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        await _beside(super().handle, guard, self._close_unless_initialised())

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
