"""OpenTelemetry traces: a tracer provider per app (never the process-wide global), the ASGI
server span of every request (``opentelemetry-instrumentation-asgi``), inside it a span per
GraphQL operation (``entrypoints/graphql/extensions/telemetry.py``), and inside that a span per store call; across Kafka, W3C ``traceparent``
headers. Spans leave through OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set (the standard
``OTEL_*`` variables configure the exporter); otherwise nothing is exported."""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from typing import Any, cast

from opentelemetry import trace
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Link, Span, SpanContext, SpanKind, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from starlette.types import ASGIApp, Receive, Scope, Send

from gql_analytics.ports import Store

SERVICE = "gql-analytics"
W3C = TraceContextTextMapPropagator()
MAX_LINKS = 128  # OpenTelemetry's default limit of links per span


def tracer_provider(env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """The app's tracer provider; None when ``OTEL_SDK_DISABLED`` is true (no spans at all)."""
    env = os.environ if env is None else env
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


class TracedRequests:
    """ASGI middleware: a server span per HTTP request (OpenTelemetry's ASGI middleware). A
    WebSocket passes by: its operations are traced by their own spans, and the middleware's work
    on every message sent cost more than the rest of sending a live message."""

    def __init__(self, app: ASGIApp, tracer_provider: TracerProvider) -> None:
        self.app = app
        self.traced = OpenTelemetryMiddleware(
            app, tracer_provider=tracer_provider, exclude_spans=["receive", "send"]
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "websocket":
            await self.app(scope, receive, send)
        else:
            await self.traced(scope, receive, send)


def traced_store(store: Store, tracer: Tracer) -> Store:
    """The store, with a span for each call made within a trace (a request, a consumed batch,
    an analysis job), named by the database and the call; calls outside any trace (background
    loops) make none."""
    return cast(Store, _TracedStore(store, tracer))


class _TracedStore:
    def __init__(self, store: Store, tracer: Tracer) -> None:
        self._store = store
        self._tracer = tracer

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._store, name)
        if not inspect.iscoroutinefunction(found):
            return found
        traced = self._traced(name, found)
        setattr(self, name, traced)  # found here once; later lookups do not reach __getattr__
        return traced

    def _traced(
        self, name: str, call: Callable[..., Awaitable[Any]]
    ) -> Callable[..., Awaitable[Any]]:
        system = self._store.system
        attributes = {"db.system.name": system, "db.operation.name": name}

        @functools.wraps(call)
        async def traced(*args: Any, **kwargs: Any) -> Any:
            if not trace.get_current_span().is_recording():
                return await call(*args, **kwargs)
            with self._tracer.start_as_current_span(
                f"{system} {name}", kind=SpanKind.CLIENT, attributes=attributes
            ):
                return await call(*args, **kwargs)

        return traced


# -- across Kafka ---------------------------------------------------------------------------------


def trace_headers() -> list[tuple[str, bytes]]:
    """The current trace context as Kafka headers (W3C ``traceparent``, ``tracestate``), for
    the consumer to link its batch to."""
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return [(key, value.encode()) for key, value in carrier.items()]


def consumed(
    tracer: Tracer, topics: Iterable[str], headers: Sequence[Sequence[tuple[str, bytes]]]
) -> AbstractContextManager[Span]:
    """The span of a consumed batch, given each message's headers: linked to every producer's
    span (the first ``MAX_LINKS``); and when all its traced messages come from one, in that
    producer's trace."""
    sent = {value for pairs in headers for key, value in pairs if key == "traceparent"}
    producers: list[SpanContext] = []
    for value in sent:
        context = trace.get_current_span(
            W3C.extract({"traceparent": value.decode(errors="replace")})
        ).get_span_context()
        if context.is_valid:
            producers.append(context)
            if len(producers) == MAX_LINKS:
                break
    parent = (
        trace.set_span_in_context(trace.NonRecordingSpan(producers[0]))
        if len(producers) == 1
        else None
    )
    return tracer.start_as_current_span(
        f"process {','.join(sorted(set(topics)))}",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=[Link(producer) for producer in producers],
        attributes={
            "messaging.system": "kafka",
            "messaging.operation.type": "process",
            "messaging.batch.message_count": len(headers),
        },
    )
