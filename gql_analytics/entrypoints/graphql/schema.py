"""The schema: types, error coding, and the DateTime scalar."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import strawberry
from graphql import GraphQLError
from opentelemetry.trace import Tracer
from strawberry.extensions import (
    AddValidationRules,
    DisableIntrospection,
    MaxAliasesLimiter,
    MaxTokensLimiter,
    QueryDepthLimiter,
)
from strawberry.schema.schema import StreamResult
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from gql_analytics.entrypoints.graphql.context import Context
from gql_analytics.entrypoints.graphql.errors import CodedErrors, log_errors
from gql_analytics.entrypoints.graphql.extensions.access import AccessControl
from gql_analytics.entrypoints.graphql.extensions.cache import CachedAnswers, QueryCache
from gql_analytics.entrypoints.graphql.extensions.choice import OperationChoice
from gql_analytics.entrypoints.graphql.extensions.cost import CostLimit
from gql_analytics.entrypoints.graphql.extensions.documents import CachedDocuments, Documents
from gql_analytics.entrypoints.graphql.extensions.operations_limit import most_operations
from gql_analytics.entrypoints.graphql.extensions.persisted import (
    PersistedQueries,
    PersistedQueryLookup,
)
from gql_analytics.entrypoints.graphql.extensions.plans import QueryPlans
from gql_analytics.entrypoints.graphql.extensions.telemetry import OperationTelemetry
from gql_analytics.entrypoints.graphql.live.sharing import SharedSubscriptions
from gql_analytics.entrypoints.graphql.roots import Mutation, Query, Subscription
from gql_analytics.entrypoints.graphql.scalars import DateTime
from gql_analytics.observability.metrics import Metrics
from gql_analytics.settings import DocumentLimits


class Schema(strawberry.Schema):
    sharing: SharedSubscriptions | None = None

    async def stream(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        operation_extensions: dict[str, Any] | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
    ) -> StreamResult:
        """Strawberry's, but an identical live subscription joins a running one (``sharing``)."""

        async def run(context: Any) -> StreamResult:
            return await super(Schema, self).stream(
                query,
                variable_values,
                context,
                root_value,
                operation_name,
                operation_extensions,
                allowed_operation_types,
            )

        sharing, context = self.sharing, context_value
        if (
            sharing is None
            or not isinstance(context, Context)
            or not query
            or root_value is not None
            or operation_extensions
        ):
            return await run(context_value)
        shared = sharing.key(context, query, variable_values, operation_name)
        if shared is None:
            return await run(context.own())
        key, root = shared
        return sharing.results(context, key, root, run)

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Unexpected errors are logged (with a request id) where they are masked.
        log_errors(errors, execution_context)


def build_schema(
    limits: DocumentLimits | None = None,
    *,
    introspection: bool = True,
    metrics: Metrics | None = None,
    tracer: Tracer | None = None,
    cache: QueryCache | None = None,
    persisted: PersistedQueries | None = None,
) -> Schema:
    """The schema with its extensions: each document parsed and validated once (per schema),
    checked against the limits and the caller's role, answered from ``cache`` when it can be,
    counted, timed and traced."""
    limits = limits or DocumentLimits()
    documents = Documents()
    queries = persisted or PersistedQueries()
    cached = [] if cache is None else [lambda: CachedAnswers(cache=cache)]
    hidden = [] if introspection else [DisableIntrospection]
    observed = (
        []
        if metrics is None and tracer is None
        else [lambda: OperationTelemetry(metrics=metrics, tracer=tracer)]
    )
    schema = Schema(
        query=Query,
        mutation=Mutation,
        subscription=Subscription,
        scalar_overrides={datetime: DateTime},
        extensions=[
            CodedErrors,
            lambda: PersistedQueryLookup(queries=queries),
            lambda: CachedDocuments(documents=documents),
            OperationChoice,
            AccessControl,
            lambda: QueryDepthLimiter(max_depth=limits.depth),
            lambda: MaxAliasesLimiter(max_alias_count=limits.aliases),
            lambda: MaxTokensLimiter(max_token_count=limits.tokens),
            lambda: CostLimit(limit=limits.cost),
            QueryPlans,
            lambda: AddValidationRules([most_operations(limits.operations)]),
            *cached,
            *hidden,
            *observed,
        ],
    )
    schema.sharing = SharedSubscriptions(documents)
    return schema


def export_sdl() -> str:
    return build_schema().as_str() + "\n"
