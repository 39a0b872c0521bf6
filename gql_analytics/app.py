"""The app factory: every collaborator is built here, once, from settings."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from cross_web import HTTPException
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NoOpTracer, Tracer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.exceptions import ConnectionRejectionError
from strawberry.http.async_base_view import AsyncWebSocketAdapter
from strawberry.types.unset import UNSET, UnsetType

from gql_analytics import logs, tracing
from gql_analytics.analysis.service import AnalysisService
from gql_analytics.api import json_body
from gql_analytics.api.body_limit import BodyLimit
from gql_analytics.api.cache import QueryCache
from gql_analytics.api.context import Context
from gql_analytics.api.csrf import PREFLIGHT_HEADERS, CSRFGuard
from gql_analytics.api.errors import refusal_response
from gql_analytics.api.persisted import PersistedQueries, read_manifest
from gql_analytics.api.quota import SubscriptionQuota
from gql_analytics.api.rate_limit import RateLimiter
from gql_analytics.api.schema import build_schema
from gql_analytics.api.socket_handlers import LegacyWSHandler, TransportWSHandler
from gql_analytics.auth.access import may
from gql_analytics.auth.authenticator import Authenticator, credential_in
from gql_analytics.auth.keys import READ
from gql_analytics.auth.tokens import TokenVerifier
from gql_analytics.domain.records import DEFAULT_TENANT
from gql_analytics.errors import BadRequest, Forbidden, GatewayError, Unauthenticated
from gql_analytics.fanout import Feeds
from gql_analytics.kafka.broadcast import KafkaBus
from gql_analytics.kafka.consumer import KafkaIngest
from gql_analytics.kafka.producer import KafkaSink
from gql_analytics.live import InProcessBus
from gql_analytics.logs import RequestIds
from gql_analytics.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gql_analytics.metrics import Metrics
from gql_analytics.pipeline import IngestPipeline
from gql_analytics.ports import IngestSink, LiveBus, Store
from gql_analytics.service import AnalyticsService, utc_now
from gql_analytics.settings import Settings, SettingsError
from gql_analytics.store import open_store

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)


class GraphQLApp(GraphQL[Context, None]):
    graphql_ws_handler_class = LegacyWSHandler
    graphql_transport_ws_handler_class = TransportWSHandler

    def __init__(
        self,
        service: AnalyticsService,
        analysis: AnalysisService,
        bus: LiveBus,
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
                limiter=limiter,
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
        self._quota = SubscriptionQuota(settings.max_subscriptions_per_tenant, self.metrics)
        self._feeds = Feeds()
        self.metrics.live_computations.set_function(lambda: len(self._feeds))
        rules = settings.token_rules
        tokens = TokenVerifier(rules) if rules is not None else None
        self._authenticator = Authenticator(service.store, tokens)

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
            quota=self._quota,
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


async def _purge_forever(service: AnalyticsService, retention: timedelta) -> None:
    while True:
        try:
            removed = await service.store.purge_raw(service.clock() - retention)
            log.info("retention: removed %d raw records", removed)
        except GatewayError as error:
            log.warning("retention: purge failed: %s", error)
        await asyncio.sleep(PURGE_EVERY.total_seconds())


def create_app(
    settings: Settings,
    *,
    store: Store | None = None,
    bus: LiveBus | None = None,
    clock: Callable[[], datetime] = utc_now,
    tracer_provider: TracerProvider | None = None,
) -> Starlette:
    if not settings.auth:
        if not is_loopback(settings.host):
            raise SettingsError(
                f"--no-auth serves every tenant to anyone who can connect: it is for local "
                f"development on a loopback address (127.0.0.1, ::1), not {settings.host}"
            )
        log.warning("authentication is off (--no-auth): anyone on this machine may read and write")
    store = (
        store
        if store is not None
        else open_store(
            settings.store_url,
            retention=settings.retention,
            min_free_bytes=settings.store_min_free_bytes,
        )
    )
    # With Kafka on, replicas share live changes through the live topic.
    live = KafkaBus(settings) if bus is None and settings.kafka_bootstrap_servers else None
    bus = bus if bus is not None else (live or InProcessBus())
    consumer: KafkaIngest | None = None
    kafka_sink: KafkaSink | None = None
    sink: IngestSink
    metrics = Metrics()
    made_provider = tracer_provider is None and settings.tracing
    provider = tracing.tracer_provider() if made_provider else tracer_provider
    tracer: Tracer = NoOpTracer()
    if provider is not None:
        tracer = provider.get_tracer(tracing.SERVICE)
        store = tracing.traced_store(store, tracer)
    if settings.kafka_bootstrap_servers:
        sink = kafka_sink = KafkaSink(store, settings, tracer=tracer)
        consumer = KafkaIngest(store, bus, settings, clock=clock, tracer=tracer)
        metrics.watch_consumer(consumer)
    else:
        sink = IngestPipeline(store, bus, metrics=metrics)
    service = AnalyticsService(
        store,
        sink,
        monitor=consumer,
        retention=settings.retention,
        clock=clock,
        metrics=metrics,
        max_points=settings.document_limits.cost,
    )
    analysis = AnalysisService(
        service, limits=settings.analysis_limits, metrics=metrics, tracer=tracer
    )
    graphql = GraphQLApp(
        service,
        analysis,
        bus,
        settings,
        metrics if settings.metrics else None,
        tracer=tracer if provider is not None else None,
    )

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def scrape(request: Request) -> Response:
        """Prometheus text; with auth on, only for the scrape token (--metrics-token)."""
        if settings.auth:
            sent = credential_in(request.headers) or ""
            token = settings.metrics_token
            if not token or not hmac.compare_digest(sent.encode(), token.encode()):
                error = "send the scrape token (--metrics-token) as Authorization: Bearer"
                return JSONResponse({"error": error}, status_code=401)
        return Response(metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    async def ready(request: Request) -> Response:
        """What the gateway can do now: the store answers and takes writes, the broker answers;
        each asked afresh, within ``ready_timeout``."""
        timeout = settings.ready_timeout
        probes = {"store": _probe(store.ping(), timeout, "store: no answer")}
        if kafka_sink is not None:
            unreachable = "kafka: the broker is not reachable (no answer)"
            probes["kafka"] = _probe(kafka_sink.check(), timeout, unreachable)
        checks = dict(zip(probes, await asyncio.gather(*probes.values()), strict=True))
        if consumer is not None and checks["kafka"] == "ok" and not consumer.started.is_set():
            checks["kafka"] = "kafka: the consumer has not joined its group yet"
        if live is not None:
            listening = live.listening.is_set()
            checks["live"] = "ok" if listening else "live: the live topic is not read yet"
        if any(value != "ok" for value in checks.values()):
            return JSONResponse({"status": "unavailable", **checks}, status_code=503)
        return JSONResponse({"status": "ready", **checks})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            if made_provider and provider is not None:  # spans still queued are sent
                stack.push_async_callback(asyncio.to_thread, provider.shutdown)
            stack.push_async_callback(store.close)
            if live is not None:
                await live.start()
                stack.push_async_callback(live.stop)
            await sink.start()
            stack.push_async_callback(sink.stop)
            stack.push_async_callback(analysis.close)
            if consumer is not None:
                stopping = asyncio.Event()
                running = asyncio.create_task(consumer.run(stopping), name="kafka-consumer")
                stack.push_async_callback(_finish, running, stopping)
            if settings.retention is not None:
                purger = asyncio.create_task(_purge_forever(service, settings.retention))
                stack.push_async_callback(_finish, purger, None)
            yield

    traced = [] if provider is None else [Middleware(tracing.TracedRequests, provider)]
    scraped = [Route("/metrics", scrape)] if settings.metrics else []
    return Starlette(
        routes=[
            Route(
                "/graphql",
                CSRFGuard(BodyLimit(graphql, settings.max_body_bytes)),
                methods=["GET", "POST"],
            ),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/ready", ready),
            *scraped,
        ],
        lifespan=lifespan,
        middleware=[Middleware(RequestIds), *traced, *_cors(settings.cors_origins)],
    )


async def _probe(check: Awaitable[None], within: float, silent: str) -> str:
    """The check's outcome: ok, its own error, or ``silent`` if it took longer than ``within``
    seconds (a frozen broker, or a store stuck on its disk, answers nothing)."""
    try:
        async with asyncio.timeout(within):
            await check
    except TimeoutError:
        return f"{silent} within {within:g} s"
    except GatewayError as error:
        return error.message
    return "ok"


def _cors(origins: tuple[str, ...]) -> list[Middleware]:
    """CORS for the listed origins only; none listed, browsers keep to the same origin."""
    if not origins:
        return []
    headers = ["content-type", "authorization", "x-api-key", *PREFLIGHT_HEADERS]
    return [
        Middleware(
            CORSMiddleware,
            allow_origins=list(origins),
            allow_methods=["GET", "POST"],
            allow_headers=headers,
            max_age=600,
        )
    ]


def is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


async def _finish(task: asyncio.Task[None], stopping: asyncio.Event | None) -> None:
    """Stop a background task: ask it to stop when it can be asked, else cancel it."""
    if stopping is not None:
        stopping.set()
    else:
        task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
