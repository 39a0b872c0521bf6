"""OpenTelemetry traces: a tracer provider per app (never the process-wide global), the ASGI
server span of every request (``opentelemetry-instrumentation-asgi``) and, inside it, a span per
GraphQL operation. Spans leave through OTLP only when ``OTEL_EXPORTER_OTLP_ENDPOINT`` is set
(the standard ``OTEL_*`` variables configure the exporter); otherwise nothing is exported."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping

from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace import Tracer
from strawberry.extensions import SchemaExtension

from gql_analytics.api.operation import describe

SERVICE = "gql-analytics"


def tracer_provider(env: Mapping[str, str] | None = None) -> TracerProvider:
    env = os.environ if env is None else env
    provider = TracerProvider(resource=Resource.create({"service.name": SERVICE}))
    if env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    return provider


class OperationSpans(SchemaExtension):
    """A span per GraphQL operation, named by its type and name (or root field), with the
    operation's type and name, and the number of its errors, as attributes."""

    def __init__(self, *, tracer: Tracer) -> None:
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        with self.tracer.start_as_current_span("graphql") as span:
            yield
            context = self.execution_context
            described = describe(context)
            kind, name = described.kind, described.name or described.root
            span.update_name(f"{kind} {name or 'anonymous'}")
            span.set_attribute("graphql.operation.type", kind)
            span.set_attribute("graphql.operation.name", name or "")
            errors = context.pre_execution_errors or getattr(context.result, "errors", None)
            if errors:
                span.set_attribute("graphql.errors", len(errors))
