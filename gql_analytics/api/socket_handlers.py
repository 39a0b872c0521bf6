"""The two WebSocket protocols' handlers, with what Strawberry leaves to us:

- while a socket lives, its view's guard runs beside it (the credential it opened with is
  checked again from time to time, and the socket closed when it no longer holds), and so does
  the writer of its shared subscriptions' messages (``sharing.SocketWriter``), which needs to
  know which operation a subscription is (``sharing.operation_id``);
- the legacy ``graphql-ws`` protocol gets the ``connection_init`` deadline that Strawberry gives
  only ``graphql-transport-ws``: a socket that never initialises is closed (4408), not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Protocol, cast

from starlette.websockets import WebSocket
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
    Operation,
)
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler

from gql_analytics.api.context import Context
from gql_analytics.api.sharing import SocketWriter, operation_id


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


def _writer(context: Context, kind: str) -> SocketWriter:
    socket = context.request
    assert isinstance(socket, WebSocket)
    context.writer = SocketWriter(socket.send_text, kind, context.metrics)
    return context.writer


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        await _beside(super().handle, guard, _writer(self.context, "next").run())

    async def run_operation(self, operation: Operation[Context, None]) -> None:
        operation_id.set(operation.id)  # the operation's own task: its context alone
        await super().run_operation(operation)


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        writer = _writer(self.context, "data").run()
        await _beside(super().handle, guard, writer, self._close_unless_initialised())

    async def handle_async_results(
        self,
        operation_id_: str,
        query: str,
        operation_name: str | None,
        variables: dict[str, object] | None,
    ) -> None:
        operation_id.set(operation_id_)  # the operation's own task: its context alone
        await super().handle_async_results(operation_id_, query, operation_name, variables)

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
