"""Identical live subscriptions share one stream: one execution per change for all of them, and
still one subscription each for the tenant's quota, /metrics and their own sockets."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import pytest
from graphql import GraphQLError
from strawberry.types import ExecutionResult

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.entrypoints.graphql.live.socket import Encoded, LiveSocket, Shared
from gql_analytics.errors import StoreUnavailable
from gql_analytics.observability.metrics import Metrics
from gql_analytics.settings import Settings
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, Socket, first_counts, socket
from tests.api.test_metrics import scrape, value
from tests.support import DEADLINE, Clock, GraphQLClient, ServerThread, eventually

LIVE_SIGNUPS = 'subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }'
SIGNUP = 'mutation { trackEvent(input: {name: "signup"}) { accepted } }'
COMPUTATIONS = "gql_analytics_live_computations"


async def counts(ws: Socket, subscriptions: int) -> list[int]:
    return [(await ws.next_data())["eventCount"]["count"] for _ in range(subscriptions)]


async def test_identical_subscriptions_share_one_stream_and_each_gets_every_update(
    live: ServerThread,
) -> None:
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http,
        socket(live, TRANSPORT_WS) as first,
        socket(live, LEGACY_WS) as second,
    ):
        assert await first_counts((first, second), LIVE_SIGNUPS, 10) == [[0] * 10] * 2
        # The first subscriber of a document runs it alone (it is parsed and validated then);
        # the other nineteen share one stream, and every stream shares one count.
        shared = await scrape(http)
        assert value(shared, COMPUTATIONS) == 2
        await GraphQLClient(http).data(SIGNUP)
        assert [await counts(ws, 10) for ws in (first, second)] == [[1] * 10] * 2
        pushed = await scrape(http)
        assert value(pushed, "gql_analytics_subscription_messages_total") == 40
        assert value(pushed, "gql_analytics_subscriptions_active") == 20

    async def all_ended() -> bool:
        ended = await scrape(http)
        return (
            value(ended, COMPUTATIONS) == 0
            and value(ended, "gql_analytics_subscriptions_active") == 0
            and value(
                ended,
                "gql_analytics_graphql_requests_total",
                operation="subscription eventCount",
                outcome="ok",
            )
            == 20
        )

    async with httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http:
        await eventually(all_ended, "the streams outlived their subscribers, or went uncounted")


async def test_a_shared_streams_messages_leave_through_each_sockets_writer_on_both_protocols(
    live: ServerThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The writer frames a shared result with the subscriber's own operation id, which it finds
    in the protocol handler's registry; were that lookup to fail, each subscriber's operation
    would send the message itself, and nothing else would tell."""
    taken: list[tuple[str, str]] = []
    take = LiveSocket.take

    def recorded(self: LiveSocket, id: str, value: Shared, *, every: bool = False) -> bool:
        took = take(self, id, value, every=every)
        if took:
            taken.append((self.kind, id))
        return took

    monkeypatch.setattr(LiveSocket, "take", recorded)
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http,
        socket(live, TRANSPORT_WS) as first,
        socket(live, LEGACY_WS) as second,
    ):
        assert await first_counts((first, second), LIVE_SIGNUPS, 3) == [[0] * 3] * 2
        await GraphQLClient(http).data(SIGNUP)
        assert [await counts(ws, 3) for ws in (first, second)] == [[1] * 3] * 2
    # The first subscriber of a document runs it alone; the five others share its stream.
    assert {protocol for protocol, _ in taken} == {"next", "data"}
    assert {id for _, id in taken} >= {"1", "2"}


async def test_a_subscriber_leaving_a_shared_stream_leaves_the_others_their_updates(
    live: ServerThread,
) -> None:
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=DEADLINE) as http,
        socket(live, TRANSPORT_WS) as ws,
    ):
        for id in ("alone", "a", "b", "c"):
            await ws.subscribe(LIVE_SIGNUPS, id=id)
        assert await counts(ws, 4) == [0] * 4
        await ws.connection.send(json.dumps({"id": "b", "type": "complete"}))
        await ws.subscribe(LIVE_SIGNUPS, id="d")  # answered after the server ended "b"
        assert await counts(ws, 1) == [0]
        await GraphQLClient(http).data(SIGNUP)
        updated: dict[str, int] = {}
        while len(updated) < 4:
            message = await ws.receive()
            updated[message["id"]] = message["payload"]["data"]["eventCount"]["count"]
        assert updated == {"alone": 1, "a": 1, "c": 1, "d": 1}


class FailingStore(DuckDBStore):
    """Its rollups cannot be read once ``down``."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False

    async def rollup_stats(self, *args: Any, **kwargs: Any) -> Any:
        if self.down:
            raise StoreUnavailable("store: connection refused")
        return await super().rollup_stats(*args, **kwargs)


async def test_a_failing_shared_stream_gives_every_subscriber_the_coded_error_then_ends(
    clock: Clock,
) -> None:
    store = FailingStore()
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http,
            socket(server, TRANSPORT_WS) as ws,
        ):
            for id in ("alone", "a", "b"):
                await ws.subscribe(LIVE_SIGNUPS, id=id)
            assert await counts(ws, 3) == [0] * 3
            store.down = True
            await GraphQLClient(http).data(SIGNUP)
            heard: dict[str, list[str]] = {"alone": [], "a": [], "b": []}
            while any(len(messages) < 2 for messages in heard.values()):
                message = await ws.receive()
                kind = message["type"]
                if kind == "next":
                    kind = message["payload"]["errors"][0]["extensions"]["code"]
                heard[message["id"]].append(kind)
            assert heard == {id: ["STORE_UNAVAILABLE", "complete"] for id in heard}


async def sent_by_a_writer(*results: tuple[str, Shared]) -> list[dict[str, Any]]:
    """What a socket's writer sends of the results it is given (those it takes)."""
    sent: list[str] = []

    async def send_text(text: str) -> None:
        sent.append(text)

    writer = LiveSocket(send_text, "next", Metrics())
    for id, result in results:
        writer.take(id, result)
    running = asyncio.ensure_future(writer.run())
    await asyncio.sleep(0)  # one turn: the writer sends what it holds
    running.cancel()
    return [json.loads(text) for text in sent]


@pytest.mark.parametrize("extensions", [None, {}, {"cost": 2}])
async def test_a_writer_sends_what_strawberry_would_have_sent(
    extensions: dict[str, int] | None,
) -> None:
    data = {"eventCount": {"name": 'sign"up ü', "count": 3}}
    result = Encoded.of(ExecutionResult(data=data, errors=None, extensions=extensions))
    payload: dict[str, Any] = {"data": data}
    if extensions:
        payload["extensions"] = extensions
    assert await sent_by_a_writer(("7", result)) == [
        {"id": "7", "type": "next", "payload": payload}
    ]


async def test_a_writer_sends_the_latest_of_each_and_leaves_errors_to_the_operation() -> None:
    def count(n: int) -> Encoded:
        return Encoded.of(ExecutionResult(data={"eventCount": {"count": n}}, errors=None))

    failed = ExecutionResult(data=None, errors=[GraphQLError("store down")])
    sent = await sent_by_a_writer(("a", count(1)), ("b", count(1)), ("a", count(2)), ("b", failed))
    assert [(m["id"], m["payload"]["data"]["eventCount"]["count"]) for m in sent] == [("a", 2)]
