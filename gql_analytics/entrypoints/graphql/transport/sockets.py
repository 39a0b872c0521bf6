"""The two WebSocket protocols' handlers, with what Strawberry leaves to us:

- while a socket lives, its view's guard runs beside it (the credential it opened with is
  checked again from time to time, and the socket closed when it no longer holds), and so does
  the writer of its shared subscriptions' messages (``live.socket.LiveSocket``), which asks the
  handler's own registry of operations which one runs in the current task;
- the legacy ``graphql-ws`` protocol gets the ``connection_init`` deadline that Strawberry gives
  only ``graphql-transport-ws``: a socket that never initialises is closed (4408), not kept.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, Protocol, cast

from starlette.websockets import WebSocket
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import Message
from strawberry.subscriptions.protocols.graphql_ws.handlers import BaseGraphQLWSHandler
from strawberry.subscriptions.protocols.graphql_ws.types import ErrorMessage, OperationMessage

from gql_analytics.entrypoints.graphql.context import Context
from gql_analytics.entrypoints.graphql.live.socket import LiveSocket


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


def _live_socket(
    context: Context, kind: str, tasks: Callable[[], Iterable[tuple[str, asyncio.Task[Any] | None]]]
) -> LiveSocket:
    """The socket's ``LiveSocket``, set in its context; ``tasks``: the handler's operations by
    id, with the task each runs in."""
    socket = context.request
    if not isinstance(socket, WebSocket):
        raise TypeError("a socket handler serves a WebSocket")

    def operation_id() -> str | None:
        current = asyncio.current_task()
        return next((id for id, task in tasks() if task is current), None)

    context.socket = LiveSocket(
        socket.send_text, kind, context.metrics, close=socket.close, operation_id=operation_id
    )
    return context.socket


def _malformed(message: object, start: str) -> str | None:
    """Why a frame is not a message its protocol's handler can take (None: it is one)."""
    if not isinstance(message, dict) or not isinstance(message.get("type"), str):
        return "a message is a JSON object with a type"
    if message["type"] != start:
        return None
    payload = message.get("payload")
    if not isinstance(message.get("id"), str):
        return f"{start}: the id must be a string"
    if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
        return f"{start}: the payload must be an object with a query"
    if not isinstance(payload.get("variables") or {}, dict):
        return f"{start}: the variables must be an object"
    if not isinstance(payload.get("operationName") or "", str):
        return f"{start}: the operationName must be a string"
    return None


def _start_id(message: object) -> str | None:
    if isinstance(message, dict) and message.get("type") == "start":
        id = message.get("id")
        return id if isinstance(id, str) else None
    return None


class TransportWSHandler(BaseGraphQLTransportWSHandler[Context, None]):
    async def handle_message(self, message: Message) -> None:
        problem = _malformed(message, "subscribe")
        if problem is None:
            await super().handle_message(message)
        else:  # closed with 4400, as the protocol says of a message it cannot take
            await self.handle_invalid_message(problem)

    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        socket = _live_socket(
            self.context, "next", lambda: ((id, op.task) for id, op in self.operations.items())
        )
        await _beside(super().handle, guard, socket.run())


class LegacyWSHandler(BaseGraphQLWSHandler[Context, None]):
    async def handle_message(self, message: OperationMessage) -> None:
        problem = _malformed(message, "start")
        if problem is None:
            await super().handle_message(message)
        elif (id := _start_id(message)) is not None:
            reply = ErrorMessage(type="error", id=id, payload={"message": problem})
            await self.send_message(reply)
        else:
            await self.websocket.close(code=4400, reason=problem)

    async def handle(self) -> None:
        guard = cast(SocketGuard, self.view).guard_socket(self.context, self.websocket)
        socket = _live_socket(self.context, "data", self.tasks.items)
        await _beside(super().handle, guard, socket.run(), self._close_unless_initialised())

    async def _close_unless_initialised(self) -> None:
        await asyncio.sleep(self.view.connection_init_wait_timeout.total_seconds())
        if not self.connection_acknowledged:
            await self.websocket.close(code=4408, reason="Connection initialisation timeout")
