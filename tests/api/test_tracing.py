"""Spans of a GraphQL request, caught by an in-memory exporter."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gql_analytics.app import create_app
from gql_analytics.settings import Settings
from gql_analytics.store.duckdb import DuckDBStore
from gql_analytics.tracing import tracer_provider
from tests.support import Clock, ServerThread


@pytest.fixture
def exporter() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def traced(exporter: InMemorySpanExporter, clock: Clock) -> Iterator[ServerThread]:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    settings = Settings(auth=False, store_url="duckdb:///:memory:")
    app = create_app(settings, store=DuckDBStore(), clock=clock, tracer_provider=provider)
    with ServerThread(app) as server:
        yield server


async def test_a_query_is_a_graphql_span_inside_the_request_span(
    traced: ServerThread, exporter: InMemorySpanExporter
) -> None:
    async with httpx.AsyncClient(base_url=traced.base_url, timeout=10) as http:
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


def test_nothing_is_exported_without_an_endpoint() -> None:
    provider = tracer_provider({})
    assert provider._active_span_processor._span_processors == ()


def test_an_endpoint_turns_the_otlp_exporter_on() -> None:
    provider = tracer_provider({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4318"})
    (processor,) = provider._active_span_processor._span_processors
    assert type(processor.span_exporter).__name__ == "OTLPSpanExporter"  # type: ignore[attr-defined]
    provider.shutdown()
