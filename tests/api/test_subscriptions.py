"""Subscriptions over WebSocket, with both GraphQL-over-WebSocket protocols, on a real server."""

from __future__ import annotations

from datetime import timedelta

import httpx

from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, HeldSends, first_counts, socket
from tests.support import DEADLINE, NOW, Clock, CountingStore, GraphQLClient, ServerThread, iso

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"


COUNT = 'subscription { eventCount(name: "user_signup", range: {last: "1h"}) { name count at } }'


async def test_event_count_is_pushed_at_once_and_after_each_mutation(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(COUNT)
        first = await ws.next_data()
        assert first["eventCount"] == {"name": "user_signup", "count": 0, "at": iso(NOW)}
        await client.data(TRACK, {"inputs": [{"name": "user_signup"}, {"name": "other"}]})
        assert (await ws.next_data())["eventCount"]["count"] == 1
        await client.data(TRACK, {"inputs": [{"name": "user_signup"}, {"name": "user_signup"}]})
        assert (await ws.next_data())["eventCount"]["count"] == 3


async def test_the_legacy_graphql_ws_protocol_works_too(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, LEGACY_WS) as ws:
        await ws.subscribe(COUNT)
        assert (await ws.next_data())["eventCount"]["count"] == 0
        await client.data(TRACK, {"inputs": [{"name": "user_signup"}]})
        assert (await ws.next_data())["eventCount"]["count"] == 1


async def test_an_unrelated_event_pushes_nothing(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(COUNT)
        assert (await ws.next_data())["eventCount"]["count"] == 0
        await client.data(TRACK, {"inputs": [{"name": "other"}]})
        await client.data(TRACK, {"inputs": [{"name": "user_signup"}]})
        # Had "other" caused a message, it would carry count 0 and arrive first.
        assert (await ws.next_data())["eventCount"]["count"] == 1


async def test_metric_updates_push_the_new_aggregate(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(
            'subscription { metricUpdates(name: "latency", tags: {region: "eu"}) { count max p50 } }'
        )
        assert (await ws.next_data())["metricUpdates"] == {"count": 0, "max": None, "p50": None}
        await client.data(
            "mutation($i: [MetricInput!]!) { recordMetrics(inputs: $i) { accepted } }",
            {
                "i": [
                    {"name": "latency", "value": 120.0, "tags": {"region": "eu"}},
                    {"name": "latency", "value": 900.0, "tags": {"region": "us"}},
                ]
            },
        )
        assert (await ws.next_data())["metricUpdates"] == {"count": 1, "max": 120.0, "p50": 120.0}


async def test_event_stream_delivers_matching_events(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(
            'subscription { eventStream(filter: {names: ["purchase"], userId: "u1"}) { id name userId occurredAt } }'
        )
        # The subscription is live once the server has it; a count subscription on the same
        # socket answering proves the first one was registered before it.
        await ws.subscribe(COUNT, id="2")
        await ws.next_data()
        when = NOW - timedelta(minutes=1)
        await client.data(
            TRACK,
            {
                "inputs": [
                    {"name": "purchase", "userId": "u2", "id": "no"},
                    {"name": "purchase", "userId": "u1", "id": "yes", "occurredAt": iso(when)},
                ]
            },
        )
        assert (await ws.next_data())["eventStream"] == {
            "id": "yes",
            "name": "purchase",
            "userId": "u1",
            "occurredAt": iso(when),
        }


async def test_a_bad_subscription_gets_a_coded_error(server: ServerThread) -> None:
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe('subscription { eventCount(name: "bad name") { count } }')
        message = await ws.receive()
        assert message["type"] in {"error", "next"}
        errors = message["payload"] if message["type"] == "error" else message["payload"]["errors"]
        assert errors[0]["extensions"]["code"] == "BAD_USER_INPUT"


LIVE_SIGNUPS = 'subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }'
UPDATES = 30


async def test_a_slow_socket_holds_up_no_other_and_gets_the_latest_value(
    held: tuple[ServerThread, HeldSends],
) -> None:
    server, app = held
    async with (
        httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http,
        socket(server, TRANSPORT_WS, query="?slow") as slow,
        socket(server, TRANSPORT_WS) as fast,
    ):
        client = GraphQLClient(http)
        await fast.subscribe(LIVE_SIGNUPS)
        assert (await fast.next_data())["eventCount"]["count"] == 0
        await slow.subscribe(LIVE_SIGNUPS)  # joins the fast one's question: its stream is shared
        for update in range(1, UPDATES + 1):
            await client.data('mutation { trackEvent(input: {name: "signup"}) { accepted } }')
            while (count := (await fast.next_data())["eventCount"]["count"]) < update:
                pass
            assert count == update  # each update reached the fast socket, in order
        app.release.set()
        # What waited for the slow socket: the message its send was held on, then the latest
        # value, not one message per update.
        received = [(await slow.next_data())["eventCount"]["count"]]
        while received[-1] < UPDATES:
            received.append((await slow.next_data())["eventCount"]["count"])
        assert len(received) <= 2, received


async def test_subscribers_of_one_question_share_one_computation(clock: Clock) -> None:
    store = CountingStore()
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http,
            socket(server, TRANSPORT_WS) as first,
            socket(server, LEGACY_WS) as second,
        ):
            assert await first_counts((first, second), LIVE_SIGNUPS, 10) == [[0] * 10] * 2
            assert store.rollup_reads == 1
            await GraphQLClient(http).data(
                'mutation { trackEvent(input: {name: "signup"}) { accepted } }'
            )
            for ws in (first, second):
                for _ in range(10):
                    assert (await ws.next_data())["eventCount"]["count"] == 1
            assert store.rollup_reads == 2  # one computation for twenty subscribers
