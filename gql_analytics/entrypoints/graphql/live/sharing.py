"""Identical live subscriptions share one stream.

Ten thousand dashboard widgets are a few hundred distinct subscriptions. A subscription to a
latest-value field (``eventCount``, ``metricUpdates``) whose document, variables and operation
name are those of one already running for the same tenant and role joins that one's stream
instead of executing its own: the operation is executed once per change and its payload encoded
to JSON once (``socket.Encoded``). Each socket's ``LiveSocket`` then frames it with each subscriber's
id and sends it, one task a socket rather than one wake-up a subscriber; it holds the latest
result of each subscription, so a slow socket gets the latest of each when it is ready and holds
up no one. Anything else a stream yields (an error) goes the ordinary way, through the
subscriber's own operation.

Each subscriber is still admitted on its own (``admission``): it takes a token of its key's rate
and a place in its tenant's quota, is counted in /metrics as one operation, and its messages as
its own; the one execution of the stream is admitted by nothing (``BY_ITS_SUBSCRIBERS``). What
else is checked of an operation (the role, validation, depth, cost) depends only on what the key
holds, so the shared stream checked it once for all. A subscriber who cannot be admitted takes
the ordinary path, which refuses it as it would any other; so does a document not yet parsed and
validated once, so that a document is never parsed here without the parser's limits.
"""

from __future__ import annotations

import contextlib
import functools
import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, TypeVar

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast
from strawberry.types import ExecutionResult

from gql_analytics.entrypoints.graphql.extensions import telemetry
from gql_analytics.entrypoints.graphql.extensions.documents import Documents
from gql_analytics.entrypoints.graphql.live.fields import SHARED_FIELDS, STREAM_FIELDS
from gql_analytics.entrypoints.graphql.live.socket import Encoded, Result, Shared
from gql_analytics.entrypoints.graphql.live.subscriber import Subscriber
from gql_analytics.errors import GatewayError

S = TypeVar("S", bound=Subscriber)
Run = Callable[[S], Awaitable[AsyncGenerator[Any, None]]]
"""Runs the operation the ordinary way, for the given context."""


class SharedSubscriptions:
    def __init__(self, documents: Documents) -> None:
        self._documents = documents

    def key(
        self,
        context: Subscriber,
        query: str,
        variables: dict[str, Any] | None,
        operation_name: str | None,
    ) -> tuple[Hashable, str] | None:
        """What identical subscriptions share, and the root field they ask for; None when the
        operation is not a subscription to a latest-value field of a known valid document."""
        known = self._documents.get(query)
        if known is None or known.errors is None or known.errors:
            return None
        operation = get_operation_ast(known.document, operation_name)
        if operation is None or operation.operation is not OperationType.SUBSCRIPTION:
            return None
        (root, *more) = operation.selection_set.selections
        if more or not isinstance(root, FieldNode) or root.name.value not in SHARED_FIELDS:
            return None
        role = context.principal.role if context.principal is not None else None
        arguments = json.dumps(variables, sort_keys=True, default=str)
        key = ("operation", context.tenant, context.auth, role, query, arguments, operation_name)
        return key, root.name.value

    async def results(
        self, context: S, key: Hashable, root: str, run: Run[S]
    ) -> AsyncGenerator[Result, None]:
        """The results of the stream shared under ``key``, for one subscriber."""
        with contextlib.ExitStack() as admitted:
            try:
                admitted.enter_context(context.admission.place(context.tenant))
                if context.principal is not None:
                    context.admission.take_token(context.principal)
            except GatewayError:
                admitted.close()
                async with contextlib.aclosing(await run(context)) as refused:
                    async for result in refused:
                        yield result
                return
            started, errors = time.perf_counter(), list[GraphQLError]()
            writer = context.socket
            id = writer.operation_id() if writer is not None else None
            every = root in STREAM_FIELDS
            take = (
                None
                if writer is None or id is None
                else functools.partial(writer.take, id, every=every)
            )
            try:
                async with context.feeds.join(
                    key, lambda: self._stream(context, run), take=take, every=every
                ) as results:
                    async for value in results:  # what the socket's writer did not take
                        result = value.result if isinstance(value, Encoded) else value
                        errors = result.errors or errors
                        context.pushed()
                        yield result
            finally:
                if writer is not None and id is not None:
                    writer.forget(id)
                seconds = time.perf_counter() - started
                telemetry.count(context.metrics, f"subscription {root}", errors, seconds)

    @staticmethod
    async def _stream(context: S, run: Run[S]) -> AsyncIterator[Shared]:
        """The operation run once for every subscriber (in the context of the first, which
        differs from the others' only in what they were admitted by one by one)."""
        async with contextlib.aclosing(await run(context.alone())) as run_:
            async for result in run_:
                ok = isinstance(result, ExecutionResult) and result.data is not None
                yield Encoded.of(result) if ok and not result.errors else result
