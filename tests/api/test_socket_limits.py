"""WebSocket abuse: too many subscriptions on one socket, and sockets that never initialise."""

from __future__ import annotations

import json
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.entrypoints.graphql.quota import SubscriptionQuota
from gql_analytics.errors import TooManySubscriptions
from gql_analytics.settings import Settings
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, socket
from tests.support import DEADLINE, Clock, GraphQLClient, ServerThread, eventually, within

COUNT = 'subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }'
PROTOCOLS = pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS], ids=str)


@pytest.fixture
def guarded(clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(auth=False, store_url="duckdb:///:memory:", connection_init_timeout=0.3)
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


async def answers(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
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


@pytest.fixture
def crowded(clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(auth=False, store_url="duckdb:///:memory:", max_subscriptions_per_tenant=3)
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


async def test_a_tenant_holds_at_most_its_subscriptions_over_every_socket(
    crowded: ServerThread,
) -> None:
    async with socket(crowded, TRANSPORT_WS) as first, socket(crowded, TRANSPORT_WS) as second:
        for ws in (first, second):
            await ws.subscribe(COUNT, id="a")
        await first.subscribe(COUNT, id="b")
        assert [(await ws.receive())["type"] for ws in (first, second, first)] == ["next"] * 3
        await second.subscribe(COUNT, id="b")  # the tenant's fourth
        refused = await second.receive()  # an execution error: a "next" carrying errors
        assert refused["payload"]["data"] is None
        assert refused["payload"]["errors"][0]["extensions"]["code"] == "SUBSCRIPTION_LIMIT"
        await first.connection.send(json.dumps({"id": "a", "type": "complete"}))

        tries = iter(range(1000))

        async def room() -> bool:  # the place is given back once the server ends "a"
            id = f"c{next(tries)}"
            await second.subscribe(COUNT, id=id)
            reply = await second.receive()
            while reply.get("id") != id or reply["type"] == "complete":
                reply = await second.receive()
            return "errors" not in reply["payload"]

        await eventually(room, "the ended subscription's place was never given back")
    await answers(crowded)


def test_quotas_are_per_tenant() -> None:
    quota = SubscriptionQuota(per_tenant=1)
    with quota.hold("acme"), quota.hold("globex"), pytest.raises(TooManySubscriptions):
        quota.hold("acme").__enter__()
    with quota.hold("acme"):  # given back
        pass
