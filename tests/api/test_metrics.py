"""/metrics, parsed with prometheus-client's own parser, moves by the exact amounts of a known
workload; with auth on it answers only the scrape token."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, socket
from tests.support import DEADLINE, Clock, GraphQLClient, ServerThread, eventually

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"
GOOD = [{"name": "signup", "id": f"e{i}"} for i in range(3)]


async def scrape(
    http: httpx.AsyncClient, headers: dict[str, str] | None = None
) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = await http.get("/metrics", headers=headers or {})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(
    samples: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str
) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


async def test_counters_move_by_the_exact_amounts_of_a_workload(
    client: GraphQLClient, server: ServerThread
) -> None:
    http = client.http
    before = await scrape(http)
    await client.data(TRACK, {"inputs": [*GOOD, {"name": "bad name!"}]})  # 3 applied, 1 rejected
    await client.data(TRACK, {"inputs": GOOD[:2]})  # 2 duplicates
    await client.data("{ topEvents { name } }")
    await client.data("{ topEvents { name } }")
    await client.error("{ noSuchField }")
    job = "mutation { runAnalysis(wait: true, input: {operation: SUMMARY, dataset: {rows: [{a: 1}]}}) { state } }"
    await client.data(job)
    after = await scrape(http)

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("gql_analytics_records_ingested_total", outcome="applied") == 3
    assert moved("gql_analytics_records_ingested_total", outcome="duplicate") == 2
    assert moved("gql_analytics_records_ingested_total", outcome="rejected") == 1
    assert moved("gql_analytics_ingest_batch_records_count") == 2
    assert moved("gql_analytics_ingest_apply_seconds_count") == 2
    ops = "gql_analytics_graphql_requests_total"
    assert moved(ops, operation="mutation trackEvents", outcome="ok") == 2
    assert moved(ops, operation="query topEvents", outcome="ok") == 2
    assert moved(ops, operation="query noSuchField", outcome="error") == 1
    assert moved(ops, operation="mutation runAnalysis", outcome="ok") == 1
    assert (
        moved(
            "gql_analytics_graphql_request_seconds_count", operation="query topEvents", outcome="ok"
        )
        == 2
    )
    assert moved("gql_analytics_analysis_jobs_ended_total", state="SUCCEEDED") == 1


async def test_sockets_subscriptions_and_pushes_are_counted(
    client: GraphQLClient, server: ServerThread
) -> None:
    http = client.http
    async with socket(server, TRANSPORT_WS) as ws:
        await ws.subscribe(
            'subscription { eventCount(name: "signup", range: {last: "1h"}) { count } }'
        )
        await ws.next_data()
        await client.data(TRACK, {"inputs": GOOD[:1]})
        await ws.next_data()
        during = await scrape(http)
        assert value(during, "gql_analytics_websocket_connections") == 1
        assert value(during, "gql_analytics_subscriptions_active") == 1
        assert value(during, "gql_analytics_subscription_messages_total") == 2

    async def all_closed() -> bool:
        now = await scrape(http)
        return (
            value(now, "gql_analytics_websocket_connections") == 0
            and value(now, "gql_analytics_subscriptions_active") == 0
        )

    await eventually(all_closed, "the closed socket was still counted")


@pytest.fixture
def guarded(clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(store_url="duckdb:///:memory:", metrics_token="scrape-me")
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


async def test_with_auth_on_metrics_answer_only_the_scrape_token(guarded: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=guarded.base_url, timeout=DEADLINE) as http:
        assert (await http.get("/metrics")).status_code == 401
        wrong = await http.get("/metrics", headers={"Authorization": "Bearer guess"})
        assert wrong.status_code == 401
        samples = await scrape(http, {"Authorization": "Bearer scrape-me"})
        assert ("gql_analytics_websocket_connections", ()) in samples
