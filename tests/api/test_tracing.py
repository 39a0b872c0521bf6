"""Spans of a GraphQL request, caught by an in-memory exporter."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.applications import Starlette

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.errors import StoreUnavailable
from gql_analytics.observability.tracing import (
    MAX_LINKS,
    TracedRequests,
    consumed,
    trace_headers,
    traced_store,
    tracer_provider,
)
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, socket
from tests.support import DEADLINE, Clock, ServerThread, eventually, recorded


class UnreachableStore(DuckDBStore):
    async def ping(self) -> None:
        raise StoreUnavailable("store: connection refused")


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(exporter: InMemorySpanExporter, clock: Clock) -> Iterator[ServerThread]:
    provider = recorded(exporter)
    settings = Settings(auth=False, store_url="duckdb:///:memory:")
    app = create_app(settings, store=DuckDBStore(), clock=clock, tracer_provider=provider)
    with ServerThread(app) as server:
        yield server


async def test_a_query_is_a_graphql_span_inside_the_request_span(
    traced: ServerThread, exporter: InMemorySpanExporter
) -> None:
    async with httpx.AsyncClient(base_url=traced.base_url, timeout=DEADLINE) as http:
        body = {"query": "query Dashboard { topEvents { name } }", "operationName": "Dashboard"}
        assert (await http.post("/graphql", json=body)).status_code == 200
    spans = exporter.get_finished_spans()
    operation = next(s for s in spans if s.name == "query Dashboard")
    request = next(s for s in spans if s.kind.name == "SERVER")
    assert operation.parent is not None
    assert operation.parent.span_id == request.context.span_id
    assert operation.context.trace_id == request.context.trace_id
    assert operation.attributes is not None
    assert operation.attributes["graphql.operation.type"] == "query"
    assert request.attributes is not None
    assert request.attributes.get("http.route", request.attributes.get("http.target")) is not None


async def test_a_subscription_is_a_span_of_its_own_and_its_socket_makes_none(
    traced: ServerThread, exporter: InMemorySpanExporter
) -> None:
    async with socket(traced, TRANSPORT_WS) as ws:
        await ws.subscribe('subscription Live { eventCount(name: "signup") { count } }')
        assert (await ws.next_data())["eventCount"]["count"] == 0

    async def ended() -> bool:
        return any(s.name == "subscription Live" for s in exporter.get_finished_spans())

    await eventually(ended, "the subscription's span never ended")
    spans = exporter.get_finished_spans()
    assert [s.kind.name for s in spans if s.kind.name == "SERVER"] == []


def test_nothing_is_exported_without_an_endpoint() -> None:
    provider = tracer_provider({})
    assert provider is not None
    assert provider._active_span_processor._span_processors == ()


def test_an_endpoint_turns_the_otlp_exporter_on() -> None:
    provider = tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    assert provider is not None
    (processor,) = provider._active_span_processor._span_processors
    assert isinstance(processor, BatchSpanProcessor)
    assert type(processor.span_exporter).__name__ == "OTLPSpanExporter"
    provider.shutdown()


def test_otel_sdk_disabled_turns_tracing_off() -> None:
    assert tracer_provider({"OTEL_SDK_DISABLED": "true"}) is None
    app = create_app(Settings(auth=False, store_url="duckdb:///:memory:", tracing=False))
    assert TracedRequests not in _middleware(app)
    app = create_app(Settings(auth=False, store_url="duckdb:///:memory:"))
    assert TracedRequests in _middleware(app)


def _middleware(app: Starlette) -> list[object]:
    return [m.cls for m in app.user_middleware]


async def test_store_calls_are_child_spans_of_the_operation(
    traced: ServerThread, exporter: InMemorySpanExporter
) -> None:
    async with httpx.AsyncClient(base_url=traced.base_url, timeout=DEADLINE) as http:
        query = 'query Signups { eventCounts(names: ["signup"], range: {last: "1h"}) { total } }'
        assert (await http.post("/graphql", json={"query": query})).status_code == 200
    spans = exporter.get_finished_spans()
    operation = next(s for s in spans if s.name == "query Signups")
    calls = [
        s for s in spans if s.parent is not None and s.parent.span_id == operation.context.span_id
    ]
    assert calls, "no store span under the operation"
    for call in calls:
        assert call.kind.name == "CLIENT"
        assert call.attributes is not None
        assert call.attributes["db.system.name"] == "duckdb"
        assert call.name.split(" ") == ["duckdb", call.attributes["db.operation.name"]]
    assert "series" in {call.attributes["db.operation.name"] for call in calls if call.attributes}


async def test_a_failed_store_call_is_an_error_span(exporter: InMemorySpanExporter) -> None:
    provider = recorded(exporter)
    tracer = provider.get_tracer("test")
    store = traced_store(UnreachableStore(), tracer)
    with tracer.start_as_current_span("operation"), pytest.raises(StoreUnavailable):
        await store.ping()
    (call,) = (s for s in exporter.get_finished_spans() if s.name == "duckdb ping")
    assert call.status.status_code.name == "ERROR"


async def test_store_calls_outside_any_trace_make_no_spans(exporter: InMemorySpanExporter) -> None:
    provider = recorded(exporter)
    store = traced_store(DuckDBStore(), provider.get_tracer("test"))
    assert await store.positions("topic") == {}  # e.g. a background loop's call
    await store.close()
    assert exporter.get_finished_spans() == ()


def _children(spans: Sequence[ReadableSpan], parent: ReadableSpan) -> list[ReadableSpan]:
    return [s for s in spans if s.parent is not None and s.parent.span_id == parent.context.span_id]


def _named(spans: Sequence[ReadableSpan], name: str) -> ReadableSpan:
    (span,) = (s for s in spans if s.name == name)
    return span


async def test_an_analysis_job_is_traced_into_its_worker_process(
    traced: ServerThread, exporter: InMemorySpanExporter
) -> None:
    run = """
    mutation Analyse($input: AnalysisInput!) { runAnalysis(input: $input, wait: true) { state } }
    """
    rows = [{"x": float(i), "y": float(i % 3)} for i in range(50)]
    variables = {"input": {"operation": "SUMMARY", "dataset": {"rows": rows}}}
    async with httpx.AsyncClient(base_url=traced.base_url, timeout=60) as http:
        answer = await http.post("/graphql", json={"query": run, "variables": variables})
    assert answer.json()["data"]["runAnalysis"]["state"] == "SUCCEEDED"
    spans = exporter.get_finished_spans()
    operation = _named(spans, "mutation Analyse")
    job = _named(spans, "analysis SUMMARY")
    assert job.parent is not None
    assert job.parent.span_id == operation.context.span_id
    assert job.attributes is not None
    assert job.attributes["analysis.state"] == "SUCCEEDED"
    worker = _named(spans, "analysis worker")
    assert worker.parent is not None
    assert worker.parent.span_id == job.context.span_id
    phases = _children(spans, worker)
    assert [p.name for p in phases] == ["receive dataset", "compute", "encode result"]
    assert worker.attributes is not None
    pid = worker.attributes["process.pid"]
    assert pid != os.getpid()
    for phase in phases:
        assert phase.context.trace_id == operation.context.trace_id
        assert phase.attributes is not None
        assert phase.attributes["process.pid"] == pid
        assert phase.start_time is not None
        assert phase.end_time is not None
        assert worker.start_time is not None
        assert worker.end_time is not None
        assert worker.start_time <= phase.start_time <= phase.end_time <= worker.end_time
    saves = [s for s in _children(spans, job) if s.name == "duckdb save_job"]
    assert saves, "the job's state changes are stored within its span"


def test_a_batch_of_many_producers_links_to_them_and_joins_none(
    exporter: InMemorySpanExporter,
) -> None:
    provider = recorded(exporter)
    tracer = provider.get_tracer("test")
    headers: list[list[tuple[str, bytes]]] = []
    for _ in range(200):
        with tracer.start_as_current_span("send"):
            headers.append(trace_headers())
    headers += [[("traceparent", b"not a trace context")], []]
    with consumed(tracer, ["events", "events"], headers):
        pass
    batch = _named(exporter.get_finished_spans(), "process events")
    sends = {s.context.span_id for s in exporter.get_finished_spans() if s.name == "send"}
    assert batch.parent is None
    assert len(batch.links) == MAX_LINKS
    assert {link.context.span_id for link in batch.links} <= sends
    assert batch.attributes is not None
    assert batch.attributes["messaging.batch.message_count"] == 202
