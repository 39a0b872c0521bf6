"""Identical live subscriptions share one stream.

Ten thousand dashboard widgets are a few hundred distinct subscriptions. A subscription to a
latest-value field (``eventCount``, ``metricUpdates``) whose document, variables and operation
name are those of one already running for the same tenant and role joins that one's stream
instead of executing its own: the operation is executed once per change and its payload encoded
to JSON once (``Encoded``). Each socket's ``SocketWriter`` then frames it with each subscriber's
id and sends it, one task a socket rather than one wake-up a subscriber; it holds the latest
result of each subscription, so a slow socket gets the latest of each when it is ready and holds
up no one. Anything else a stream yields (an error) goes the ordinary way, through the
subscriber's own operation.

Each subscriber is still admitted on its own: it takes a token of its key's rate and a place in
its tenant's quota, is counted in /metrics as one operation, and its messages as its own. What
else is checked of an operation (the role, validation, depth, cost) depends only on what the key
holds, so the shared stream checked it once for all. A subscriber who cannot be admitted takes
the ordinary path, which refuses it as it would any other; so does a document not yet parsed and
validated once, so that a document is never parsed here without the parser's limits.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import functools
import json
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from contextvars import ContextVar
from typing import Any

from graphql import FieldNode, GraphQLError, OperationType, get_operation_ast
from strawberry.types import ExecutionResult
from strawberry.types.execution import PreExecutionError

from gql_analytics.entrypoints.graphql import telemetry
from gql_analytics.entrypoints.graphql.context import Context
from gql_analytics.entrypoints.graphql.documents import Documents
from gql_analytics.entrypoints.graphql.rate_limit import RateLimiter
from gql_analytics.entrypoints.graphql.subscription import SHARED_FIELDS, STREAM_FIELDS
from gql_analytics.errors import GatewayError
from gql_analytics.observability.metrics import Metrics

Result = ExecutionResult | PreExecutionError
SEND_TURN = 64
"""Messages a socket's writer sends in one turn of the event loop."""
BACKLOG = 10_000
"""Stream messages that may wait for one socket before it is closed as too slow."""
operation_id: ContextVar[str | None] = ContextVar("operation_id", default=None)
"""The id of the socket's operation being run (set by the socket handlers)."""
Run = Callable[[Context], Awaitable[AsyncGenerator[Any, None]]]
"""Runs the operation the ordinary way, for the given context."""


def _compact(value: object) -> str:
    return json.dumps(value, separators=(",", ":"))


class Encoded(dict[str, Any]):
    """A result's data, with the JSON of the payload it is sent in (the data and the
    operation's extensions) encoded once for every subscriber it is sent to."""

    __slots__ = ("json",)

    def __init__(self, data: dict[str, Any], extensions: dict[str, Any] | None) -> None:
        super().__init__(data)
        payload = {"data": data, "extensions": extensions} if extensions else {"data": data}
        self.json = _compact(payload)


class SocketWriter:
    """The messages of one socket's shared subscriptions, sent by one task (``run``), in the
    order they came: of a latest-value subscription the latest result when its turn comes, of a
    stream (``every``) each result. At most ``SEND_TURN`` messages leave in one turn of the event
    loop, so that a burst to many sockets shares the loop with every other request. A socket
    with more than ``backlog`` stream messages waiting is too slow to follow its streams: it is
    closed (1013, try again later) rather than held in memory for ever."""

    def __init__(
        self,
        send_text: Callable[[str], Awaitable[None]],
        kind: str,
        metrics: Metrics,
        *,
        close: Callable[[int, str], Awaitable[None]] | None = None,
        backlog: int = BACKLOG,
    ) -> None:
        self._send_text = send_text
        self._close = close
        self._metrics = metrics
        self._backlog = backlog
        # Each waiting message: its subscription's head, and its payload (None: the latest).
        self._queue: deque[tuple[str, Encoded | None]] = deque()
        self._latest: dict[str, Encoded] = {}
        self._heads: dict[str, str] = {}  # each subscription's message up to its payload
        self._kind = _compact(kind)  # "next", or the legacy protocol's "data"
        self._ready = asyncio.Event()
        self._closing: asyncio.Future[None] | None = None

    def take(self, id: str, result: Result, *, every: bool = False) -> bool:
        """Queues a result whose payload was encoded once (True); leaves any other to the
        subscription's own operation, forgetting the latest value queued before it (False)."""
        data = result.data if type(result) is ExecutionResult else None
        if type(data) is not Encoded:
            self._latest.pop(id, None)
            return False
        head = self._heads.get(id)
        if head is None:
            head = self._heads[id] = f'{{"id":{_compact(id)},"type":{self._kind},"payload":'
        if every:
            if len(self._queue) < self._backlog:
                self._queue.append((head, data))
            elif self._closing is None and self._close is not None:  # its send may never end
                self._closing = asyncio.ensure_future(
                    self._close(1013, "too slow to follow its event streams")
                )
        elif self._latest.setdefault(id, data) is data:  # not queued yet: queued now
            self._queue.append((id, None))
        else:
            self._latest[id] = data
        self._ready.set()
        return True

    def forget(self, id: str) -> None:
        self._latest.pop(id, None)
        head = self._heads.pop(id, None)
        if head is not None:
            self._queue = deque(item for item in self._queue if item[0] != head)

    async def run(self) -> None:
        """Sends until the socket is gone."""
        while True:
            await self._ready.wait()
            self._ready.clear()
            try:
                await self._send_waiting()
            except Exception:  # the socket closed: its handler ends the subscriptions
                return

    async def _send_waiting(self) -> None:
        sent = 0
        try:
            while self._queue:
                key, data = self._queue.popleft()
                if data is None:  # a latest-value subscription's turn
                    latest = self._latest.pop(key, None)
                    if latest is None:  # forgotten meanwhile
                        continue
                    key, data = self._heads[key], latest
                await self._send_text(key + data.json + "}")
                sent += 1
                if sent % SEND_TURN == 0:
                    await asyncio.sleep(0)  # a turn for everyone else
        finally:
            self._metrics.pushed.inc(sent)


class SharedSubscriptions:
    def __init__(self, documents: Documents, limiter: RateLimiter | None) -> None:
        self._documents = documents
        self._limiter = limiter

    def key(
        self,
        context: Context,
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
        self, context: Context, key: Hashable, root: str, run: Run
    ) -> AsyncGenerator[Result, None]:
        """The results of the stream shared under ``key``, for one subscriber."""
        with contextlib.ExitStack() as admitted:
            try:
                admitted.enter_context(context.quota.hold(context.tenant))
                if self._limiter is not None and context.principal is not None:
                    self._limiter.take(context.principal.credential)
            except GatewayError:
                admitted.close()
                async with contextlib.aclosing(await run(context)) as refused:
                    async for result in refused:
                        yield result
                return
            started, errors = time.perf_counter(), list[GraphQLError]()
            writer, id = context.writer, operation_id.get()
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
                    async for result in results:  # what the socket's writer did not take
                        errors = result.errors or errors
                        context.pushed()
                        yield result
            finally:
                if writer is not None and id is not None:
                    writer.forget(id)
                seconds = time.perf_counter() - started
                telemetry.count(context.metrics, f"subscription {root}", errors, seconds)

    @staticmethod
    async def _stream(context: Context, run: Run) -> AsyncIterator[Result]:
        """The operation run once for every subscriber (in the context of the first, which
        differs from the others' only in what they were admitted by one by one)."""
        async with contextlib.aclosing(
            await run(dataclasses.replace(context, shared=True, writer=None))
        ) as run_:
            async for result in run_:
                if (
                    type(result) is ExecutionResult
                    and result.data is not None
                    and not result.errors
                ):
                    result.data = Encoded(result.data, result.extensions)
                yield result
