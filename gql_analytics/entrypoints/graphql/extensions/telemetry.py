"""Each GraphQL operation counted and timed for /metrics, and traced: one extension, so that the
operation is described once for both.

Metrics name an operation by its type and root field (a bounded set, unlike client-chosen
operation names) and outcome; its span is named by its type and name (``query Dashboard``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence

from graphql import GraphQLError
from opentelemetry.trace import Span, Tracer
from strawberry.extensions import SchemaExtension

from gql_analytics.entrypoints.graphql.operation import describe
from gql_analytics.errors import StoreUnavailable
from gql_analytics.observability.metrics import Metrics


class OperationTelemetry(SchemaExtension):
    def __init__(self, *, metrics: Metrics | None, tracer: Tracer | None) -> None:
        self.metrics = metrics
        self.tracer = tracer

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        # The context's admission (``live.admission``) says whether it is an operation of its own.
        admission = getattr(self.execution_context.context, "admission", None)
        if admission is not None and not admission.observed:
            yield  # a stream shared by subscribers, who are each counted (``live.sharing``)
            return
        # A subscription usually ends by its client's leaving (cancelled): counted all the same.
        if self.tracer is None:
            try:
                yield
            finally:
                self._ended(started, None)
            return
        with self.tracer.start_as_current_span("graphql") as span:
            try:
                yield
            finally:
                self._ended(started, span)

    def _ended(self, started: float, span: Span | None) -> None:
        context = self.execution_context
        errors = context.pre_execution_errors or (getattr(context.result, "errors", None) or [])
        described = describe(context)
        if self.metrics is not None:
            operation = f"{described.kind} {described.root or '-'}"
            count(self.metrics, operation, errors, time.perf_counter() - started)
        if span is not None and span.is_recording():
            kind, name = described.kind, described.name or described.root
            span.update_name(f"{kind} {name or 'anonymous'}")
            span.set_attribute("graphql.operation.type", kind)
            span.set_attribute("graphql.operation.name", name or "")
            if errors:
                span.set_attribute("graphql.errors", len(errors))


def count(metrics: Metrics, operation: str, errors: Sequence[GraphQLError], seconds: float) -> None:
    """One operation (``subscription eventCount``) that ended with ``errors`` after ``seconds``."""
    outcome = "error" if errors else "ok"
    metrics.requests.labels(operation, outcome).inc()
    metrics.request_seconds.labels(operation, outcome).observe(seconds)
    if any(isinstance(e.original_error, StoreUnavailable) for e in errors):
        metrics.store_errors.inc()
