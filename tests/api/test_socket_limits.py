"""WebSocket abuse: too many subscriptions on one socket, and sockets that never initialise."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gql_analytics.app import create_app
from gql_analytics.settings import Settings
from gql_analytics.store.duckdb import DuckDBStore
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, socket
from tests.support import Clock, GraphQLClient, ServerThread, within

COUNT = 'subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }'
PROTOCOLS = pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)


@pytest.fixture
def guarded(clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(auth=False, store_url="duckdb:///:memory:", connection_init_timeout=0.3)
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


async def answers(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=10) as http:
        assert (await http.get("/health")).json() == {"status": "ok"}
        assert (await GraphQLClient(http).data("{ topEvents { name } }"))["topEvents"] == []


@PROTOCOLS
async def test_subscriptions_past_fifty_on_one_socket_are_refused(
    guarded: ServerThread, protocol: Subprotocol
) -> None:
    async with socket(guarded, protocol) as ws:
        for id in range(100):
            await ws.subscribe(COUNT, id=str(id))
        replies = [await ws.receive() for _ in range(100)]
        kinds = {"data" if ws.legacy else "next": "value", "error": "refused"}
        counted: dict[str, list[str]] = {"value": [], "refused": []}
        for reply in replies:
            counted[kinds[reply["type"]]].append(reply["id"])
        assert sorted(map(int, counted["value"])) == list(range(50))
        assert sorted(map(int, counted["refused"])) == list(range(50, 100))
        refusals = [json.dumps(r["payload"]) for r in replies if r["type"] == "error"]
        assert all("Subscription limit reached" in refusal for refusal in refusals)
    await answers(guarded)


@PROTOCOLS
async def test_a_socket_that_never_initialises_is_closed(
    guarded: ServerThread, protocol: Subprotocol
) -> None:
    async with connect(guarded.ws_url, subprotocols=[protocol]) as connection:
        with pytest.raises(ConnectionClosed) as closed:
            await within(connection.recv())
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4408
    await answers(guarded)
