"""A GraphQL-over-WebSocket test client speaking either protocol, against a real server."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, Protocol

from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.support import within

TRANSPORT_WS = Subprotocol("graphql-transport-ws")
LEGACY_WS = Subprotocol("graphql-ws")


class Socket:
    """A GraphQL-over-WebSocket client speaking either protocol."""

    def __init__(self, connection: ClientConnection, protocol: Subprotocol) -> None:
        self.connection = connection
        self.legacy = protocol == LEGACY_WS

    async def receive(self) -> dict[str, Any]:
        while True:
            message: dict[str, Any] = json.loads(await within(self.connection.recv()))
            if message["type"] not in {"ka", "ping", "pong"}:
                return message

    async def subscribe(
        self, query: str, variables: dict[str, Any] | None = None, id: str = "1"
    ) -> None:
        kind = "start" if self.legacy else "subscribe"
        payload = {"query": query, "variables": variables or {}}
        await self.connection.send(json.dumps({"id": id, "type": kind, "payload": payload}))

    async def next_data(self) -> dict[str, Any]:
        message = await self.receive()
        assert message["type"] == ("data" if self.legacy else "next"), message
        assert "errors" not in message["payload"], message
        data: dict[str, Any] = message["payload"]["data"]
        return data


class Served(Protocol):
    @property
    def ws_url(self) -> str: ...


@asynccontextmanager
async def socket(server: Served, protocol: Subprotocol, query: str = "") -> AsyncIterator[Socket]:
    async with connect(server.ws_url + query, subprotocols=[protocol]) as connection:
        assert connection.subprotocol == protocol
        client = Socket(connection, protocol)
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert (await client.receive())["type"] == "connection_ack"
        yield client


async def drain(connection: ClientConnection) -> None:
    """Read whatever comes until the server closes the socket."""
    while True:
        await within(connection.recv())


async def first_counts(sockets: Sequence[Socket], query: str, each: int) -> list[list[int]]:
    """``each`` subscriptions to an ``eventCount`` ``query`` on every socket (ids 0, 1, ...),
    and the first count each was sent, socket by socket."""
    for ws in sockets:
        for id in range(each):
            await ws.subscribe(query, id=str(id))
    return [[(await ws.next_data())["eventCount"]["count"] for _ in range(each)] for ws in sockets]


class HeldSends:
    """The app, with what it sends as subscription messages to sockets opened with ``?slow``
    held until ``release`` is set: a client on a slow network, whose sends wait."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.release = threading.Event()

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "websocket" or b"slow" not in scope.get("query_string", b""):
            await self.app(scope, receive, send)
            return

        async def held(message: Any) -> None:
            if message["type"] == "websocket.send" and '"next"' in message.get("text", ""):
                await asyncio.to_thread(self.release.wait)
            await send(message)

        await self.app(scope, receive, held)
