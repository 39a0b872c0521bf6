"""The gateway with Kafka on: mutations produce, the background consumer applies, live pushes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from prometheus_client.parser import text_string_to_metric_families

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import create_app, kafka_consumer
from gql_analytics.observability.tracing import traced_store
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, socket
from tests.kafka.broker import KAFKA_DEADLINE, free_port, produce
from tests.support import DEADLINE, GraphQLClient, ServerThread, eventually, recorded


@pytest.fixture
def kafka_server(kafka_settings: Settings) -> Iterator[ServerThread]:
    with ServerThread(create_app(kafka_settings, store=DuckDBStore(), clock=utc_now)) as server:
        yield server


@pytest.fixture
async def kafka_client(kafka_server: ServerThread) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=kafka_server.base_url, timeout=DEADLINE) as http:
        yield GraphQLClient(http)


async def test_a_mutation_with_wait_is_visible_to_the_next_query(
    kafka_client: GraphQLClient,
) -> None:
    result = await kafka_client.data(
        'mutation { trackEvents(inputs: [{name: "signup", id: "s1"}, {name: "signup", id: "s2"}], wait: true) { accepted ids } }'
    )
    assert result["trackEvents"] == {"accepted": 2, "ids": ["s1", "s2"]}
    counts = await kafka_client.data(
        '{ eventCounts(names: ["signup"], range: {last: "1h"}) { total } }'
    )
    assert counts["eventCounts"] == [{"total": 2}]
    await kafka_client.data(
        'mutation { recordMetric(input: {name: "latency", value: 7.5}, wait: true) { accepted } }'
    )
    metric = await kafka_client.data(
        '{ metric(name: "latency", range: {last: "1h"}) { count sum } }'
    )
    assert metric["metric"] == {"count": 1, "sum": 7.5}
    scraped = (await kafka_client.http.get("/metrics")).text
    applied = [
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "gql_analytics_kafka_records_total"
        and sample.labels == {"outcome": "applied"}
    ]
    assert applied == [3]  # the consumer's own count, read at the scrape


async def test_a_subscription_is_pushed_records_produced_to_kafka(
    kafka_server: ServerThread, kafka_client: GraphQLClient, kafka_settings: Settings
) -> None:
    async def consumer_assigned() -> bool:
        status = await kafka_client.data("{ ingestStatus { partitions { partition } } }")
        return bool(status["ingestStatus"]["partitions"])

    await eventually(consumer_assigned, "the consumer did not join", deadline=KAFKA_DEADLINE)
    async with socket(kafka_server, TRANSPORT_WS) as ws:
        await ws.subscribe(
            'subscription { eventCount(name: "purchase", range: {last: "1h"}) { count } }'
        )
        assert (await ws.next_data())["eventCount"]["count"] == 0
        await produce(
            kafka_settings.kafka_bootstrap_servers or "",
            kafka_settings.kafka_topics[1],
            [{"event": "purchase", "user_id": "u1"}, {"event_name": "purchase", "user_id": "u2"}],
            partition=0,
        )
        counts = [(await ws.next_data())["eventCount"]["count"]]
        while counts[-1] < 2:
            counts.append((await ws.next_data())["eventCount"]["count"])
        assert counts[-1] == 2


async def test_ingest_status_reports_partitions_and_totals(
    kafka_client: GraphQLClient, kafka_settings: Settings
) -> None:
    await produce(
        kafka_settings.kafka_bootstrap_servers or "",
        kafka_settings.kafka_topics[2],
        [{"event": "task_created", "task_id": "t1", "user_id": "u1"}, b"not json"],
        partition=1,
    )
    query = "{ ingestStatus { kafka applied duplicates deadLettered partitions { topic partition committedOffset highWatermark lag lastAppliedAt } } }"

    async def committed() -> bool:
        # Offsets reach Kafka just after the totals move: wait for the commit itself.
        status = (await kafka_client.data(query))["ingestStatus"]
        return any(p["committedOffset"] == 2 for p in status["partitions"])

    await eventually(committed, "the consumer did not commit its offsets", deadline=KAFKA_DEADLINE)
    status = (await kafka_client.data(query))["ingestStatus"]
    assert (status["applied"], status["deadLettered"]) == (1, 1)
    assert status["kafka"] is True
    assert len(status["partitions"]) == 9
    (tasks,) = [
        p
        for p in status["partitions"]
        if p["topic"] == kafka_settings.kafka_topics[2] and p["partition"] == 1
    ]
    assert (tasks["committedOffset"], tasks["highWatermark"], tasks["lag"]) == (2, 2, 0)
    assert tasks["lastAppliedAt"] is not None


async def test_without_kafka_ingest_status_says_so(client: GraphQLClient) -> None:
    status = await client.data("{ ingestStatus { kafka partitions { topic } applied } }")
    assert status["ingestStatus"] == {"kafka": False, "partitions": [], "applied": 0}


async def test_with_the_broker_down_reads_work_and_ingest_says_broker_unavailable() -> None:
    settings = Settings(
        auth=False, kafka_bootstrap_servers=f"127.0.0.1:{free_port()}", kafka_topics=("down",)
    )
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=utc_now)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            client = GraphQLClient(http)
            ready = await http.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["store"] == "ok"
            assert "not reachable" in ready.json()["kafka"]
            assert (await client.data("{ dashboard { totalEvents } }"))["dashboard"] == {
                "totalEvents": 0
            }
            error = await client.error('mutation { trackEvent(input: {name: "x"}) { accepted } }')
            assert error["extensions"]["code"] == "BROKER_UNAVAILABLE"


async def test_a_mutation_and_the_batch_that_applies_it_are_one_trace(
    kafka_settings: Settings,
) -> None:
    exporter = InMemorySpanExporter()
    provider = recorded(exporter)
    app = create_app(kafka_settings, store=DuckDBStore(), clock=utc_now, tracer_provider=provider)
    topic = kafka_settings.kafka_topics[0]  # where mutations produce
    with ServerThread(app) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            client = GraphQLClient(http)
            await client.data(
                'mutation Track { trackEvents(inputs: [{name: "signup", id: "t1"},'
                ' {name: "signup", id: "t2"}], wait: true) { accepted } }'
            )

            async def batch_ended() -> bool:
                return any(s.name == f"process {topic}" for s in exporter.get_finished_spans())

            await eventually(batch_ended, "the consumer's batch span did not end")
    spans = exporter.get_finished_spans()
    operation = next(s for s in spans if s.name == "mutation Track")
    send = next(s for s in spans if s.name == f"send {topic}")
    batch = next(s for s in spans if s.name == f"process {topic}")
    assert send.kind.name == "PRODUCER"
    assert batch.kind.name == "CONSUMER"
    assert send.parent is not None
    assert send.parent.span_id == operation.context.span_id
    assert batch.context.trace_id == operation.context.trace_id
    assert batch.parent is not None
    assert batch.parent.span_id == send.context.span_id
    assert [link.context.span_id for link in batch.links] == [send.context.span_id]
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 2
    applied = next(s for s in spans if s.name == "duckdb apply")  # two messages: decoded in Python
    assert applied.parent is not None
    assert applied.parent.span_id == batch.context.span_id


async def test_a_batch_from_untraced_producers_starts_its_own_trace(
    kafka_settings: Settings,
) -> None:
    exporter = InMemorySpanExporter()
    provider = recorded(exporter)
    store = traced_store(DuckDBStore(), provider.get_tracer("test"))
    ingest = kafka_consumer(
        kafka_settings, store, InProcessBus(), clock=utc_now, tracer=provider.get_tracer("test")
    )
    stopping = asyncio.Event()
    running = asyncio.create_task(ingest.run(stopping))
    topic = kafka_settings.kafka_topics[0]
    await produce(kafka_settings.kafka_bootstrap_servers or "", topic, [{"event": "a"}])

    async def applied() -> bool:
        return ingest.totals.applied == 1

    await eventually(applied, "the record was not applied", deadline=KAFKA_DEADLINE)
    stopping.set()
    await asyncio.wait_for(running, KAFKA_DEADLINE)
    (batch,) = (s for s in exporter.get_finished_spans() if s.name.startswith("process "))
    assert batch.parent is None
    assert batch.links == ()


async def test_a_consumed_record_changes_the_next_cached_answer(
    kafka_client: GraphQLClient, kafka_settings: Settings
) -> None:
    query = '{ eventCounts(names: ["purchase"], range: {last: "1h"}) { total } }'
    assert (await kafka_client.data(query))["eventCounts"] == [{"total": 0}]
    assert (await kafka_client.post(query))["extensions"]["cache"] == "hit"
    topic = kafka_settings.kafka_topics[1]
    await produce(kafka_settings.kafka_bootstrap_servers or "", topic, [{"event": "purchase"}])

    async def counted() -> bool:
        body = await kafka_client.post(query)
        return bool(body["data"]["eventCounts"] == [{"total": 1}])

    await eventually(counted, "the consumed record never reached the answer", KAFKA_DEADLINE)


# An occurredAt of its own: otherwise each path's receive time.
AT = (utc_now() - timedelta(hours=1)).replace(microsecond=0).isoformat()
SAME_INPUTS: list[dict[str, Any]] = [
    {"id": "p1", "name": "signup", "occurredAt": AT, "properties": {"userId": "x", "plan": "pro"}},
    {"id": "p2", "name": "signup", "occurredAt": AT, "userId": "u2", "properties": {"userId": "y"}},
    {"id": "p3", "name": "signup", "occurredAt": AT, "properties": {"user_id": "u3"}},
    {"id": "p4", "name": "signup", "occurredAt": AT, "source": "web"},
]
EVENT_FIELDS = "id name userId occurredAt source properties"  # receivedAt: when each received it


async def test_a_mutation_stores_the_same_record_with_kafka_as_without(
    kafka_client: GraphQLClient,
) -> None:
    track = "mutation($e: [EventInput!]!) { trackEvents(inputs: $e, wait: true) { ids } }"
    plain = Settings(auth=False, store_url="duckdb:///:memory:")
    with ServerThread(create_app(plain, store=DuckDBStore(), clock=utc_now)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            direct = GraphQLClient(http)
            for client in (direct, kafka_client):
                tracked = await client.data(track, {"e": SAME_INPUTS})
                assert len(tracked["trackEvents"]["ids"]) == len(SAME_INPUTS)
            for item in SAME_INPUTS:
                query = f'{{ event(id: "{item["id"]}") {{ {EVENT_FIELDS} }} }}'
                without, through = await direct.data(query), await kafka_client.data(query)
                assert without["event"] is not None
                assert through == without, item
