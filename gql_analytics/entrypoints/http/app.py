"""The gateway's HTTP face: ``/graphql`` (HTTP and WebSocket), the probes and ``/metrics``."""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from opentelemetry.sdk.trace import TracerProvider
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute

from gql_analytics.entrypoints.graphql.transport.body_limit import BodyLimit
from gql_analytics.entrypoints.graphql.transport.csrf import PREFLIGHT_HEADERS, CSRFGuard
from gql_analytics.entrypoints.graphql.transport.view import GraphQLApp
from gql_analytics.errors import GatewayError
from gql_analytics.observability import tracing
from gql_analytics.observability.logs import RequestIds
from gql_analytics.observability.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from gql_analytics.observability.metrics import Metrics
from gql_analytics.services.auth.authenticator import credential_in

Probe = Callable[[], Awaitable[str]]
"""A readiness check: "ok", or why not."""


@dataclass(frozen=True, slots=True)
class Scrape:
    """Where ``/metrics`` reads from; ``guarded``, it answers only the scrape token (and nobody
    while no token is set)."""

    metrics: Metrics
    guarded: bool
    token: str | None


def web_app(
    graphql: GraphQLApp,
    *,
    max_body_bytes: int,
    probes: Mapping[str, Probe],
    scrape: Scrape | None,
    cors_origins: Sequence[str],
    provider: TracerProvider | None,
    lifespan: Callable[[Starlette], AbstractAsyncContextManager[None]],
) -> Starlette:
    async def health(request: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def ready(request: Request) -> Response:
        """What the gateway can do now, each probe asked afresh."""
        checks = dict(
            zip(probes, await asyncio.gather(*(p() for p in probes.values())), strict=True)
        )
        if any(value != "ok" for value in checks.values()):
            return JSONResponse({"status": "unavailable", **checks}, status_code=503)
        return JSONResponse({"status": "ready", **checks})

    routes = [
        Route("/graphql", CSRFGuard(BodyLimit(graphql, max_body_bytes)), methods=["GET", "POST"]),
        WebSocketRoute("/graphql", graphql),
        Route("/health", health),
        Route("/ready", ready),
    ]
    if scrape is not None:
        routes.append(Route("/metrics", _scraped(scrape)))
    traced = [] if provider is None else [Middleware(tracing.TracedRequests, provider)]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        middleware=[Middleware(RequestIds), *traced, *_cors(cors_origins)],
    )


def _scraped(scrape: Scrape) -> Callable[[Request], Awaitable[Response]]:
    async def metrics(request: Request) -> Response:
        """Prometheus text; guarded, only for a request that sends the scrape token."""
        if scrape.guarded:
            sent = credential_in(request.headers) or ""
            token = scrape.token
            if not token or not hmac.compare_digest(sent.encode(), token.encode()):
                error = "send the scrape token (--metrics-token) as Authorization: Bearer"
                return JSONResponse({"error": error}, status_code=401)
        return Response(scrape.metrics.exposition(), media_type=METRICS_CONTENT_TYPE)

    return metrics


async def probe(check: Awaitable[None], within: float, silent: str) -> str:
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


def _cors(origins: Sequence[str]) -> list[Middleware]:
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
