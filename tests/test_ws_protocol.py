"""A socket's frames written in one turn of the event loop leave in one write, in order."""

from __future__ import annotations

import asyncio
from typing import Any, cast

from gql_analytics.entrypoints.http.ws_protocol import CoalescedWrites


class Transport:
    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        assert not self.closed
        self.writes.append(data)

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    def get_extra_info(self, name: str) -> Any:
        return f"info {name}"


def coalesced(transport: Transport) -> CoalescedWrites:
    return CoalescedWrites(cast(asyncio.Transport, transport), asyncio.get_running_loop())


async def test_the_writes_of_one_turn_leave_in_one_write_in_order() -> None:
    transport = Transport()
    writes = coalesced(transport)
    for frame in (b"a", b"b", b"c"):
        writes.write(frame)
    assert transport.writes == []
    await asyncio.sleep(0)  # the turn ends
    assert transport.writes == [b"abc"]
    writes.write(b"d")
    await asyncio.sleep(0)
    assert transport.writes == [b"abc", b"d"]


async def test_closing_sends_what_was_gathered_first() -> None:
    transport = Transport()
    writes = coalesced(transport)
    writes.write(b"last frame")
    writes.close()
    assert (transport.writes, transport.closed) == ([b"last frame"], True)
    await asyncio.sleep(0)  # the scheduled flush finds nothing more to write
    assert transport.writes == [b"last frame"]


async def test_what_the_transport_knows_is_asked_of_it() -> None:
    writes = coalesced(Transport())
    assert writes.get_extra_info("peername") == "info peername"
    assert writes.is_closing() is False
