"""The app factory: every collaborator is built here, once, from settings."""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime, timedelta

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import NoOpTracer, Tracer
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from gql_analytics.adapters.kafka.broadcast import KafkaBus
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.kafka.producer import KafkaSink
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.adapters.stores import open_store
from gql_analytics.entrypoints.graphql.body_limit import BodyLimit
from gql_analytics.entrypoints.graphql.csrf import PREFLIGHT_HEADERS, CSRFGuard
from gql_analytics.entrypoints.graphql.view import GraphQLApp
from gql_analytics.errors import GatewayError
from gql_analytics.observability import tracing
from gql_analytics.observability.logs import RequestIds
from gql_analytics.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import IngestSink, LiveBus, Store
from gql_analytics.services.analysis.service import AnalysisService
from gql_analytics.services.analytics import AnalyticsService, utc_now
from gql_analytics.services.auth.authenticator import credential_in
from gql_analytics.services.ingest.messages import MessageIngest
from gql_analytics.services.ingest.pipeline import IngestPipeline
from gql_analytics.settings import Settings, SettingsError

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)


async def _purge_forever(service: AnalyticsService, retention: timedelta) -> None:
    while True:
        try:
            removed = await service.store.purge_raw(service.clock() - retention)
            log.info("retention: removed %d raw records", removed)
        except GatewayError as error:
            log.warning("retention: purge failed: %s", error)
        await asyncio.sleep(PURGE_EVERY.total_seconds())


def kafka_options(settings: Settings) -> KafkaOptions | None:
    """The Kafka adapters' options, or None with Kafka off."""
    if not settings.kafka_bootstrap_servers:
        return None
    return KafkaOptions(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        topics=settings.kafka_topics,
        group_id=settings.kafka_group_id,
        dlq_suffix=settings.kafka_dlq_suffix,
        live_topic=settings.kafka_live_topic,
        idempotence=settings.kafka_idempotence,
        timeout=settings.kafka_timeout,
        on_position_reset=settings.kafka_on_position_reset,
    )


def configured_store(settings: Settings) -> Store:
    return open_store(
        settings.store_url,
        retention=settings.retention,
        min_free_bytes=settings.store_min_free_bytes,
    )


def kafka_consumer(
    settings: Settings,
    store: Store,
    bus: LiveBus,
    *,
    clock: Callable[[], datetime] = utc_now,
    tracer: Tracer | None = None,
    stop_at_end: bool = False,
) -> KafkaIngest:
    """A consumer-group member handing its partitions to the ingest layer, which applies them
    to ``store`` and publishes what changed on ``bus``."""
    options = kafka_options(settings)
    if options is None:
        raise SettingsError("consume: give --kafka or GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS")
    sink = MessageIngest(store, bus, clock=clock, retention=settings.retention)
    return KafkaIngest(sink, store, options, clock=clock, tracer=tracer, stop_at_end=stop_at_end)


async def consume(settings: Settings, stopping: asyncio.Event, *, exit_at_end: bool) -> None:
    """``gql-analytics consume``: the consumer alone, a worker beside the serving replicas, with
    the same store, tracing and live topic as they have."""
    options = kafka_options(settings)
    if options is None:
        raise SettingsError("consume: give --kafka or GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS")
    store = configured_store(settings)
    provider = tracing.tracer_provider() if settings.tracing else None
    tracer = provider.get_tracer(tracing.SERVICE) if provider is not None else None
    if tracer is not None:
        store = tracing.traced_store(store, tracer)
    bus = KafkaBus(options)  # the serving replicas' subscribers hear of what it applies
    ingest = kafka_consumer(settings, store, bus, tracer=tracer, stop_at_end=exit_at_end)
    await bus.start()
    try:
        await ingest.run(stopping)
    finally:
        await bus.stop()
        await store.close()
        if provider is not None:  # spans still queued are sent
            await asyncio.to_thread(provider.shutdown)


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
    store = store if store is not None else configured_store(settings)
    kafka = kafka_options(settings)
    # With Kafka on, replicas share live changes through the live topic.
    live = KafkaBus(kafka) if bus is None and kafka is not None else None
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
    if kafka is not None:
        sink = kafka_sink = KafkaSink(store, kafka, tracer=tracer)
        consumer = kafka_consumer(settings, store, bus, clock=clock, tracer=tracer)
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
