"""Event streams: every matching event to every subscriber, in order, executed and encoded once
for identical subscriptions, a burst spread over many turns of the event loop, and a slow socket
costing the others nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from strawberry.types import ExecutionResult

from gql_analytics.entrypoints.graphql.live.socket import SEND_TURN, Encoded, LiveSocket
from gql_analytics.observability.metrics import Metrics
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, HeldSends, Socket, socket
from tests.api.test_metrics import scrape, value
from tests.support import DEADLINE, GraphQLClient, ServerThread, eventually

STREAM = 'subscription { eventStream(filter: {names: ["signup"]}) { id name } }'
TRACK = "mutation($e: [EventInput!]!) { trackEvents(inputs: $e) { accepted } }"


def batch(first: int, count: int) -> list[dict[str, Any]]:
    return [{"name": "signup", "id": f"e{n}"} for n in range(first, first + count)]


async def ids(ws: Socket, count: int) -> list[str]:
    return [(await ws.next_data())["eventStream"]["id"] for _ in range(count)]


async def subscribed(sockets: tuple[Socket, ...], each: int, client: GraphQLClient) -> None:
    """``each`` identical streams on every socket, each known to hold (an event reached it)."""
    for ws in sockets:
        for id in range(each):
            await ws.subscribe(STREAM, id=str(id))
    await client.data(TRACK, {"e": [{"name": "signup", "id": "ready"}]})
    for ws in sockets:
        assert await ids(ws, each) == ["ready"] * each


async def test_identical_event_streams_run_once_and_each_gets_every_event_in_order(
    live: ServerThread,
) -> None:
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http,
        socket(live, TRANSPORT_WS) as first,
        socket(live, LEGACY_WS) as second,
    ):
        client = GraphQLClient(http)
        await subscribed((first, second), 10, client)
        # The first subscriber of the document ran it alone; the other nineteen share a stream.
        assert value(await scrape(http), "gql_analytics_live_computations") == 1
        await client.data(TRACK, {"e": [*batch(0, 30), {"name": "other", "id": "x"}]})
        expected = [f"e{n}" for n in range(30)]
        for ws in (first, second):
            assert sorted(await ids(ws, 10 * 30)) == sorted(expected * 10)
        pushed = value(await scrape(http), "gql_analytics_subscription_messages_total")
        assert pushed == 20 + 20 * 30


async def test_each_shared_stream_keeps_the_order_of_its_events(live: ServerThread) -> None:
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http,
        socket(live, TRANSPORT_WS) as ws,
    ):
        client = GraphQLClient(http)
        await subscribed((ws,), 3, client)
        await client.data(TRACK, {"e": batch(0, 20)})
        await client.data(TRACK, {"e": batch(20, 20)})
        per_subscription: dict[str, list[str]] = {"0": [], "1": [], "2": []}
        while sum(map(len, per_subscription.values())) < 3 * 40:
            message = await ws.receive()
            assert message["type"] == "next", message
            per_subscription[message["id"]].append(message["payload"]["data"]["eventStream"]["id"])
        assert per_subscription == {id: [f"e{n}" for n in range(40)] for id in "012"}


async def test_a_slow_socket_holds_up_no_other_event_stream(
    held: tuple[ServerThread, HeldSends],
) -> None:
    server, app = held
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http,
        socket(server, TRANSPORT_WS) as fast,
        socket(server, TRANSPORT_WS, query="?slow") as slow,
    ):
        client = GraphQLClient(http)
        await fast.subscribe(STREAM)
        await client.data(TRACK, {"e": [{"name": "signup", "id": "ready"}]})
        assert await ids(fast, 1) == ["ready"]
        await slow.subscribe(STREAM)  # shares the fast one's stream; its sends wait
        for first in range(0, 60, 20):
            await client.data(TRACK, {"e": batch(first, 20)})
            assert await ids(fast, 20) == [f"e{n}" for n in range(first, first + 20)]
        app.release.set()
        received = await ids(slow, 60)  # what waited, all of it, in order
        assert received == [f"e{n}" for n in range(60)]


def streamed(n: int) -> Encoded:
    return Encoded.of(ExecutionResult(data={"eventStream": {"id": f"e{n}"}}, errors=None))


async def test_a_writer_sends_a_burst_over_many_turns_of_the_event_loop() -> None:
    sent: list[str] = []

    async def send_text(text: str) -> None:
        sent.append(text)

    writer = LiveSocket(send_text, "next", Metrics())
    for n in range(3 * SEND_TURN):
        assert writer.take("s", streamed(n), every=True)
    running = asyncio.ensure_future(writer.run())
    try:
        await asyncio.sleep(0)  # the writer's first turn
        assert len(sent) == SEND_TURN
        await eventually(lambda: _true(len(sent) == 3 * SEND_TURN), "the burst was not sent")
    finally:
        running.cancel()
    ids = [json.loads(text)["payload"]["data"]["eventStream"]["id"] for text in sent]
    assert ids == [f"e{n}" for n in range(3 * SEND_TURN)]


async def _true(condition: bool) -> bool:
    return condition


async def test_a_socket_too_far_behind_its_streams_is_closed() -> None:
    never = asyncio.Event()
    closed: list[tuple[int, str]] = []

    async def stuck(text: str) -> None:
        await never.wait()

    async def close(code: int, reason: str) -> None:
        closed.append((code, reason))

    writer = LiveSocket(stuck, "next", Metrics(), close=close, backlog=5)
    running = asyncio.ensure_future(writer.run())
    try:
        for n in range(10):
            writer.take("s", streamed(n), every=True)
            await asyncio.sleep(0)
        await eventually(lambda: _true(bool(closed)), "the socket was held open")
    finally:
        running.cancel()
    assert closed == [(1013, "too slow to follow its event streams")]
