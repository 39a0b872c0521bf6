"""The GraphQL endpoint: Strawberry's ASGI view, with what the gateway adds to it.

Each request and socket gets its typed ``Context`` and is authenticated (a socket in its
``connection_init``, and checked again while it lives); bodies and frames are read as bounded
JSON (``json_body``), and a request Strawberry refuses before GraphQL is answered as a JSON
GraphQL error with a code."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import timedelta
from typing import Any

from cross_web import HTTPException
from opentelemetry.trace import Tracer
from starlette.requests import Request
from starlette.responses import Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.types.unset import UNSET, UnsetType

from gql_analytics.domain.keys import READ
from gql_analytics.domain.records import DEFAULT_TENANT
from gql_analytics.entrypoints.graphql import json_body
from gql_analytics.entrypoints.graphql.context import Context
from gql_analytics.entrypoints.graphql.errors import refusal_response
from gql_analytics.entrypoints.graphql.extensions.cache import QueryCache
from gql_analytics.entrypoints.graphql.extensions.persisted import PersistedQueries, read_manifest
from gql_analytics.entrypoints.graphql.live.admission import Individually
from gql_analytics.entrypoints.graphql.quota import SubscriptionQuota
from gql_analytics.entrypoints.graphql.rate_limit import RateLimiter
from gql_analytics.entrypoints.graphql.schema import build_schema
from gql_analytics.entrypoints.graphql.transport.sockets import LegacyWSHandler, TransportWSHandler
from gql_analytics.errors import BadRequest, Forbidden, GatewayError, Unauthenticated
from gql_analytics.observability import logs
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import LiveBus
from gql_analytics.services.analysis.service import AnalysisService
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.auth.access import may
from gql_analytics.services.auth.authenticator import Authenticator, credential_in
from gql_analytics.services.live.fanout import Feeds
from gql_analytics.settings import Settings, SettingsError

log = logging.getLogger(__name__)


class GraphQLApp(GraphQL[Context, None]):
    graphql_ws_handler_class = LegacyWSHandler
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        service: AnalyticsService,
        analysis: AnalysisService,
        bus: LiveBus,
        authenticator: Authenticator,
        settings: Settings,
        metrics: Metrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        """``metrics``: where operations, sockets and subscriptions are counted (None: a
        registry nobody reads); ``tracer``: a span per operation (None: none)."""
        self.metrics = metrics or Metrics()
        limiter = (
            RateLimiter(settings.rate_limit, settings.rate_burst)
            if settings.rate_limit > 0
            else None
        )
        # Keep-alives stop idle dashboard sockets from being cut by proxies between updates.
        super().__init__(
            build_schema(
                settings.document_limits,
                introspection=settings.introspection_on,
                metrics=metrics,
                tracer=tracer,
                cache=(
                    QueryCache(settings.query_cache_entries, self.metrics)
                    if settings.query_cache_entries > 0
                    else None
                ),
                persisted=_persisted(settings),
            ),
            graphql_ide="graphiql" if settings.graphiql_on else None,
            keep_alive=True,
            keep_alive_interval=15,
            connection_init_wait_timeout=timedelta(seconds=settings.connection_init_timeout),
        )
        self.max_subscriptions_per_connection = settings.max_subscriptions_per_connection
        self._service = service
        self._analysis = analysis
        self._bus = bus
        self._settings = settings
        quota = SubscriptionQuota(settings.max_subscriptions_per_tenant, self.metrics)
        self._admission = Individually(quota, self.metrics, limiter)
        self._feeds = Feeds()
        self.metrics.live_computations.set_function(lambda: len(self._feeds))
        self._authenticator = authenticator

    def decode_json(self, data: str | bytes) -> object:
        """Request bodies and socket frames alike: UTF-8 and bounded depth (``json_body``)."""
        return json_body.decode(data)

    def parse_json(self, data: str | bytes) -> Any:
        try:
            value = self.decode_json(data)
        except json.JSONDecodeError as error:
            reason = f"the body is not JSON this gateway reads: {error.msg}"
            raise HTTPException(400, reason) from error
        if not isinstance(value, dict | list):  # a list is a batch, refused as such
            raise HTTPException(400, "the body must be a JSON object")
        return value

    async def run(  # type: ignore[override]
        self, request: Request | WebSocket, context: Any = UNSET, root_value: Any = UNSET
    ) -> Response | WebSocket:
        """Strawberry's, with its refusals of an HTTP request answered as GraphQL errors."""
        try:
            return await super().run(request, context, root_value)
        except HTTPException as refused:
            if isinstance(request, WebSocket):
                raise
            return refusal_response(BadRequest(refused.reason), refused.status_code)

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        context = Context(
            service=self._service,
            analysis=self._analysis,
            bus=self._bus,
            tenant=DEFAULT_TENANT,
            live_throttle=self._settings.live_throttle,
            request=request,
            admission=self._admission,
            metrics=self.metrics,
            feeds=self._feeds,
            auth=self._settings.auth,
        )
        logs.tenant.set(context.tenant)
        if context.auth:
            await self._authenticate(context, credential_in(request.headers))
        return context

    async def _authenticate(self, context: Context, credential: str | None) -> None:
        if credential is None:
            return
        try:
            context.principal = await self._authenticator.principal(credential)
        except GatewayError as error:
            context.principal, context.auth_error = None, error
        else:
            context.tenant, context.auth_error = context.principal.tenant, None
            logs.tenant.set(context.tenant)
            context.credential = credential

    async def guard_socket(self, context: Context, websocket: AsyncWebSocketAdapter) -> None:
        """While a socket lives, its credential is checked again every few seconds; once it is
        revoked or expired, the socket is closed (4403). It also counts the open sockets."""
        self.metrics.sockets.inc()
        try:
            await self._recheck(context, websocket)
        finally:
            self.metrics.sockets.dec()

    async def _recheck(self, context: Context, websocket: AsyncWebSocketAdapter) -> None:
        while True:
            await asyncio.sleep(self._settings.credential_recheck)
            if context.credential is None:
                continue
            try:
                await self._authenticator.principal(context.credential)
            except Unauthenticated as error:
                await websocket.close(4403, error.message[:120])
                return
            except GatewayError as error:  # the store did not answer: ask again next time
                log.warning("socket credential not checked: %s", error)

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """A socket authenticates in connection_init (either protocol); one that does not, or
        whose credential is refused, is closed before any operation."""
        if context.auth:
            await self._authenticate(context, credential_in(context.connection_params or {}))
            problem: GatewayError | None = context.auth_error
            if context.principal is None:
                problem = problem or Unauthenticated("connection_init: send an API key")
            elif not may(context.principal, READ):  # ingest keys ingest over HTTP
                problem = Forbidden("subscriptions need the read role; this key has ingest")
            if problem is not None:
                raise ConnectionRejectionError(
                    {"message": problem.message, "extensions": {"code": problem.code}}
                )
        return None


def _persisted(settings: Settings) -> PersistedQueries:
    if settings.persisted_only and not settings.persisted_queries:
        raise SettingsError("--persisted-only needs the operations: --persisted-queries FILE")
    manifest = settings.persisted_queries
    known = read_manifest(manifest) if manifest else {}
    return PersistedQueries(known, only=settings.persisted_only)
