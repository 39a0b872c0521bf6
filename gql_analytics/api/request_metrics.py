"""Each GraphQL operation counted and timed, by operation (its type and root field: a bounded
set, unlike client-chosen operation names) and outcome."""

from __future__ import annotations

import time
from collections.abc import Iterator

from strawberry.extensions import SchemaExtension

from gql_analytics.api.operation import describe
from gql_analytics.errors import StoreUnavailable
from gql_analytics.metrics import Metrics


class RequestMetrics(SchemaExtension):
    def __init__(self, *, metrics: Metrics) -> None:
        self.metrics = metrics

    def on_operation(self) -> Iterator[None]:
        started = time.perf_counter()
        yield
        context = self.execution_context
        result = context.result
        errors = context.pre_execution_errors or (getattr(result, "errors", None) or [])
        outcome = "error" if errors else "ok"
        described = describe(context)
        operation = f"{described.kind} {described.root or '-'}"
        self.metrics.requests.labels(operation, outcome).inc()
        self.metrics.request_seconds.labels(operation, outcome).observe(
            time.perf_counter() - started
        )
        if any(isinstance(e.original_error, StoreUnavailable) for e in errors):
            self.metrics.store_errors.inc()
