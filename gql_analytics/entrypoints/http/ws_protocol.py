"""uvicorn's WebSocket protocol (websockets' sans-I/O one), with the frames written in one turn
of the event loop sent in one system call.

A change to a live count is a message to every subscriber, and a socket holds many: written one
by one, each frame was a ``send`` system call, which was a third of the event loop under 10,000
subscriptions (bench/live.py). Gathered until the loop's turn ends, a socket's frames go out
together, in order; closing sends what is gathered first.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol


class CoalescedWrites:
    """A transport whose writes are joined and written at the end of the loop's turn."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._gathered: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._gathered:
            self._loop.call_soon(self.flush)
        self._gathered.append(data)

    def flush(self) -> None:
        gathered, self._gathered = self._gathered, []
        if gathered and not self._transport.is_closing():
            self._transport.write(b"".join(gathered))

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        super().connection_made(transport)
        self.transport = CoalescedWrites(self.transport, asyncio.get_running_loop())  # type: ignore[assignment]
