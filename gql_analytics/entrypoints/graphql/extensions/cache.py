"""Identical queries answered from memory while the data under them is unchanged.

A query is cached by (tenant, role, document, operation name, variables) when every root field
reads stored records (``CACHEABLE``): never an analysis job, a key or the consumer's progress,
which change without a record being written. While it is resolved, every read of the service
stamps what it depends on (``dependencies``); a cached answer is given again only if each of
those versions, asked of the store again, is the same, and, for a range ending now, within the
same minute. So a record written through any replica or consumer changes the next answer, and
one of an unrelated series does not evict it. ``extensions.cache`` says ``hit``, ``miss`` or
``bypass`` (not cacheable).
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from graphql import ExecutionResult, FieldNode, OperationType, get_operation_ast
from strawberry.extensions import SchemaExtension

from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import Dependency, Version
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.recent import Recent

CACHEABLE = frozenset(
    {
        "aggregate",
        "events",
        "event",
        "eventCounts",
        "topEvents",
        "activeUsers",
        "funnel",
        "retention",
        "metric",
        "metrics",
        "tasksPerUser",
        "taskStats",
        "dashboard",
        "__typename",
        "__schema",
        "__type",
    }
)
Key = tuple[str, str | None, str, str | None, str]


@dataclass(frozen=True, slots=True)
class _Entry:
    data: dict[str, Any]
    versions: tuple[tuple[Dependency, Version], ...]
    minute: datetime | None


class QueryCache(Recent[Key, _Entry]):
    """The most recently used answers, at most ``entries`` of them; what it did is counted in
    ``metrics`` when given."""

    def __init__(self, entries: int = 1000, metrics: Metrics | None = None) -> None:
        super().__init__(entries)
        self.metrics = metrics


class CachedAnswers(SchemaExtension):
    def __init__(self, *, cache: QueryCache) -> None:
        self.cache = cache
        self.state: str | None = None

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        key = self._key()
        if key is None or execution.result is not None:  # refused before, or not a query
            yield
            return
        context = execution.context
        entry = self.cache.get(key)
        if entry is not None and await _fresh(entry, context.service):
            self.state = "hit"
            execution.result = ExecutionResult(data=entry.data)
            yield
            return
        self.state = "miss"
        # This execution's resolvers read through a service that records what they read.
        recorder, reads = context.service.recording()
        execution.context = dataclasses.replace(context, service=recorder)
        yield
        result = execution.result
        if isinstance(result, ExecutionResult) and result.data is not None and not result.errors:
            versions = tuple(reads.versions.items())
            self.cache.put(key, _Entry(result.data, versions, reads.minute))
        else:
            self.cache.drop(key)

    def _key(self) -> Key | None:
        """The answer's key, or None when it is not to be cached (``state`` says why)."""
        execution = self.execution_context
        document = execution.graphql_document
        if document is None or execution.query is None:
            return None
        operation = get_operation_ast(document, execution.operation_name)
        if operation is None or operation.operation != OperationType.QUERY:
            return None
        roots = operation.selection_set.selections
        if not all(isinstance(f, FieldNode) and f.name.value in CACHEABLE for f in roots):
            self.state = "bypass"
            return None
        context = execution.context
        role = context.principal.role if context.principal is not None else None
        variables = json.dumps(execution.variables or {}, sort_keys=True, default=str)
        return (context.tenant, role, execution.query, execution.operation_name, variables)

    def get_results(self) -> dict[str, Any]:
        if self.state is None:
            return {}
        if self.cache.metrics is not None:
            self.cache.metrics.cache.labels(self.state).inc()
        return {"cache": self.state}


async def _fresh(entry: _Entry, service: AnalyticsService) -> bool:
    minute = service.clock().replace(second=0, microsecond=0)
    if entry.minute is not None and minute != entry.minute:
        return False
    if not entry.versions:
        return True
    return await service.still_current(entry.versions)
