"""Any query held live (``subscription { live { ... } }``) over both WebSocket protocols: pushed
at once, again when a series it read changes, never for a change it did not read, and shared by
identical subscribers."""

from __future__ import annotations

import httpx
import pytest
from websockets.typing import Subprotocol

from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.sockets import LEGACY_WS, TRANSPORT_WS, socket
from tests.support import DEADLINE, Clock, CountingStore, GraphQLClient, ServerThread

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"
RECORD = "mutation($inputs: [MetricInput!]!) { recordMetrics(inputs: $inputs) { accepted } }"
LIVE = """subscription {
  live {
    aggregate(of: EVENTS, names: ["purchase"], range: {last: "1h"},
              measures: [{op: COUNT}, {op: SUM, property: "amount"}],
              groupBy: [{by: PROPERTY, key: "plan"}]) { groups { key values } }
    topEvents(range: {last: "1h"}) { name count }
  }
}"""


def buy(plan: str, amount: float) -> dict[str, object]:
    return {"name": "purchase", "userId": "u1", "properties": {"plan": plan, "amount": amount}}


@pytest.mark.parametrize("protocol", [TRANSPORT_WS, LEGACY_WS])
async def test_a_live_query_is_pushed_at_once_and_after_each_change_it_read(
    server: ServerThread, client: GraphQLClient, protocol: Subprotocol
) -> None:
    async with socket(server, protocol) as ws:
        await ws.subscribe(LIVE)
        first = (await ws.next_data())["live"]
        assert first == {"aggregate": {"groups": []}, "topEvents": []}
        await client.data(TRACK, {"inputs": [buy("pro", 30), buy("pro", 10)]})
        second = (await ws.next_data())["live"]
        assert second["aggregate"]["groups"] == [{"key": ["pro"], "values": [2.0, 40.0]}]
        assert second["topEvents"] == [{"name": "purchase", "count": 2}]


async def test_a_change_the_query_did_not_read_pushes_nothing(
    server: ServerThread, client: GraphQLClient
) -> None:
    query = """subscription { live { aggregate(of: METRICS, names: ["latency"], range: {last: "1h"},
        measures: [{op: MAX}]) { groups { values } } } }"""
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(query)
        assert (await ws.next_data())["live"]["aggregate"]["groups"] == [{"values": [None]}]
        await client.data(TRACK, {"inputs": [buy("pro", 30)]})  # an event: not read
        await client.data(RECORD, {"inputs": [{"name": "load", "value": 1.0}]})  # another name
        await client.data(RECORD, {"inputs": [{"name": "latency", "value": 120.0}]})
        # Had either unrelated write caused a message, it would hold no value and come first.
        assert (await ws.next_data())["live"]["aggregate"]["groups"] == [{"values": [120.0]}]


async def test_identical_live_queries_share_one_execution(
    server: ServerThread, client: GraphQLClient
) -> None:
    async with socket(server, TRANSPORT_WS) as one, socket(server, LEGACY_WS) as other:
        await one.subscribe(LIVE, id="a")
        await other.subscribe(LIVE, id="b")
        assert (await one.next_data()) == (await other.next_data())
        await client.data(TRACK, {"inputs": [buy("team", 5)]})
        pushed = (await one.next_data())["live"]
        assert pushed == (await other.next_data())["live"]
        assert pushed["aggregate"]["groups"] == [{"key": ["team"], "values": [1.0, 5.0]}]


async def test_twenty_identical_live_queries_are_two_computations(clock: Clock) -> None:
    store = CountingStore()
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    top = 'subscription { live { topEvents(range: {last: "1h"}) { name count } } }'
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        async with (
            httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http,
            socket(server, TRANSPORT_WS) as first,
            socket(server, LEGACY_WS) as second,
        ):
            # The first runs on its own: its document is parsed and validated as it runs. Every
            # later one finds the document known and joins one shared execution.
            await first.subscribe(top, id="0")
            assert (await first.next_data())["live"]["topEvents"] == []
            for ws in (first, second):
                for id in range(1 if ws is first else 0, 10):
                    await ws.subscribe(top, id=str(id))
            for ws in (first, second):
                for _ in range(9 if ws is first else 10):
                    assert (await ws.next_data())["live"]["topEvents"] == []
            assert store.rollup_reads == 2
            await GraphQLClient(http).data(TRACK, {"inputs": [buy("pro", 1)]})
            for ws in (first, second):
                for _ in range(10):
                    assert (await ws.next_data())["live"]["topEvents"] == [
                        {"name": "purchase", "count": 1}
                    ]
            assert store.rollup_reads == 4  # two computations for twenty subscribers


async def test_each_live_answer_reports_its_own_plan(
    server: ServerThread, client: GraphQLClient
) -> None:
    query = """subscription { live { aggregate(of: EVENTS, names: ["purchase"],
        range: {last: "1h"}, measures: [{op: COUNT}]) { groups { values } } } }"""
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(query)
        messages = [await ws.receive()]
        for _ in range(3):
            await client.data(TRACK, {"inputs": [buy("pro", 1)]})
            messages.append(await ws.receive())
    plans = [m["payload"].get("extensions", {}).get("plan", []) for m in messages]
    assert [len(p) for p in plans] == [1, 1, 1, 1], plans
