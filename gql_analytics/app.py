"""The app factory: every collaborator is built here, once, from settings."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from datetime import datetime, timedelta

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from gql_analytics.api.context import Context
from gql_analytics.api.schema import build_schema
from gql_analytics.domain.records import DEFAULT_TENANT
from gql_analytics.errors import GatewayError
from gql_analytics.live import InProcessBus
from gql_analytics.pipeline import IngestPipeline
from gql_analytics.ports import LiveBus, Store
from gql_analytics.service import AnalyticsService, utc_now
from gql_analytics.settings import Settings
from gql_analytics.store import open_store

log = logging.getLogger(__name__)
PURGE_EVERY = timedelta(hours=1)


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, service: AnalyticsService, bus: LiveBus, settings: Settings) -> None:
        # Keep-alives stop idle dashboard sockets from being cut by proxies between updates.
        super().__init__(
            build_schema(), graphql_ide="graphiql", keep_alive=True, keep_alive_interval=15
        )
        self._service = service
        self._bus = bus
        self._settings = settings

    async def get_context(
        self, request: Request | WebSocket, response: Response | WebSocket
    ) -> Context:
        return Context(
            service=self._service,
            bus=self._bus,
            tenant=DEFAULT_TENANT,
            live_throttle=self._settings.live_throttle,
            request=request,
        )


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
) -> Starlette:
    store = store if store is not None else open_store(settings.store_url)
    bus = bus if bus is not None else InProcessBus()
    pipeline = IngestPipeline(store, bus)
    service = AnalyticsService(store, pipeline, retention=settings.retention, clock=clock)
    graphql = GraphQLApp(service, bus, settings)

    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        try:
            await store.ping()
        except GatewayError as error:
            return JSONResponse({"status": "unavailable", "store": error.message}, status_code=503)
        return JSONResponse({"status": "ready", "store": "ok"})

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await pipeline.start()
        purger = (
            asyncio.create_task(_purge_forever(service, settings.retention))
            if settings.retention is not None
            else None
        )
        try:
            yield
        finally:
            if purger is not None:
                purger.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await purger
            await pipeline.stop()
            await store.close()

    return Starlette(
        routes=[
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            Route("/health", health),
            Route("/ready", ready),
        ],
        lifespan=lifespan,
    )
