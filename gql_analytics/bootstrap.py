"""The one composition root: every collaborator is built here, once, from settings, for
``serve`` (``create_app``) and ``consume`` alike; nothing else chooses an adapter."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Tracer
from starlette.applications import Starlette

from gql_analytics.adapters.kafka.broadcast import KafkaBus
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.kafka.options import KafkaOptions
from gql_analytics.adapters.kafka.producer import KafkaSink
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.adapters.stores import open_store
from gql_analytics.entrypoints.graphql.transport.view import GraphQLApp
from gql_analytics.entrypoints.http.app import Probe, Scrape, probe, web_app
from gql_analytics.errors import GatewayError
from gql_analytics.observability import tracing
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import IngestSink, LiveBus, Store
from gql_analytics.services.analysis.service import AnalysisService
from gql_analytics.services.analytics import AnalyticsService, utc_now
from gql_analytics.services.auth.authenticator import Authenticator
from gql_analytics.services.auth.tokens import TokenVerifier
from gql_analytics.services.ingest.messages import MessageIngest
from gql_analytics.services.ingest.pipeline import IngestPipeline
from gql_analytics.settings import Settings, SettingsError

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)


async def _purge_forever(store: Store, clock: Callable[[], datetime], retention: timedelta) -> None:
    while True:
        try:
            removed = await store.purge_raw(clock() - retention)
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


def _traced(store: Store, provider: TracerProvider | None) -> tuple[Store, Tracer | None]:
    """With a tracer provider: the store with a span per call within a trace, and the tracer."""
    if provider is None:
        return store, None
    tracer = provider.get_tracer(tracing.SERVICE)
    return tracing.traced_store(store, tracer), tracer


def _required_kafka(settings: Settings) -> KafkaOptions:
    options = kafka_options(settings)
    if options is None:
        raise SettingsError("consume: give --kafka or GQL_ANALYTICS_KAFKA_BOOTSTRAP_SERVERS")
    return options


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
    options = _required_kafka(settings)
    sink = MessageIngest(store, bus, clock=clock, retention=settings.retention)
    return KafkaIngest(sink, store, options, clock=clock, tracer=tracer, stop_at_end=stop_at_end)


async def consume(settings: Settings, stopping: asyncio.Event, *, exit_at_end: bool) -> None:
    """``gql-analytics consume``: the consumer alone, a worker beside the serving replicas, with
    the same store, tracing and live topic as they have."""
    options = _required_kafka(settings)
    store = configured_store(settings)
    provider = tracing.tracer_provider() if settings.tracing else None
    store, tracer = _traced(store, provider)
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
    """What ``serve`` runs: the store, the live bus, the ingest sink (the in-process pipeline,
    or Kafka with its consumer), the services and the GraphQL app, behind the HTTP routes."""
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
    store, tracer = _traced(store, provider)
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
        max_scan_rows=settings.max_scan_rows or None,
    )
    analysis = AnalysisService(
        service, store, limits=settings.analysis_limits, metrics=metrics, tracer=tracer
    )
    rules = settings.token_rules
    authenticator = Authenticator(store, TokenVerifier(rules) if rules is not None else None)
    graphql = GraphQLApp(
        service,
        analysis,
        bus,
        authenticator,
        settings,
        metrics if settings.metrics else None,
        tracer=tracer,
    )

    timeout = settings.ready_timeout
    probes: dict[str, Probe] = {"store": lambda: probe(store.ping(), timeout, "store: no answer")}
    if kafka_sink is not None:
        sink_of_kafka = kafka_sink

        async def broker() -> str:
            unreachable = "kafka: the broker is not reachable (no answer)"
            answer = await probe(sink_of_kafka.check(), timeout, unreachable)
            if answer == "ok" and consumer is not None and not consumer.started.is_set():
                return "kafka: the consumer has not joined its group yet"
            return answer

        probes["kafka"] = broker
    if live is not None:
        topic = live

        async def listening() -> str:
            return "ok" if topic.listening.is_set() else "live: the live topic is not read yet"

        probes["live"] = listening

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
                purging = _purge_forever(store, clock, settings.retention)
                stack.push_async_callback(_finish, asyncio.create_task(purging), None)
            yield

    return web_app(
        graphql,
        max_body_bytes=settings.max_body_bytes,
        probes=probes,
        scrape=Scrape(metrics, settings.auth, settings.metrics_token) if settings.metrics else None,
        cors_origins=settings.cors_origins,
        provider=provider,
        lifespan=lifespan,
    )


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
