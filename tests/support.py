"""Test helpers: a settable clock, a real uvicorn server on a free loopback port, a GraphQL client."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from starlette.types import ASGIApp

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.entrypoints.http.ws_protocol import WebSocketProtocol

T = TypeVar("T")
GATEWAY = str(Path(sys.executable).parent / "gql-analytics")
"""The gateway's command, as this environment installed it."""
DEADLINE = 60.0  # generous: the suite must pass on a loaded machine
NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)


class Clock:
    """The gateway's idea of now, moved by the tests (never by sleeping)."""

    def __init__(self, now: datetime = NOW) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, by: timedelta) -> None:
        self.now += by


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class ServerThread:
    """uvicorn serving an app on 127.0.0.1 and a free port, in a thread of its own."""

    def __init__(self, app: ASGIApp) -> None:
        config = uvicorn.Config(
            app,
            host="127.0.0.1",
            port=0,
            lifespan="on",
            log_level="warning",
            ws=WebSocketProtocol,  # as ``gql-analytics serve`` runs it
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, name="uvicorn", daemon=True)

    def __enter__(self) -> ServerThread:
        self.thread.start()
        wait_until(lambda: self.server.started, "uvicorn did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(DEADLINE)

    @property
    def port(self) -> int:
        port: int = self.server.servers[0].sockets[0].getsockname()[1]
        return port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://") + "/graphql"


def wait_until(condition: Callable[[], bool], message: str, deadline: float = DEADLINE) -> None:
    """Poll a condition until it holds or the deadline passes (a condition, not a sleep)."""
    end = time.monotonic() + deadline
    while not condition():
        if time.monotonic() > end:
            raise AssertionError(message)
        time.sleep(0.01)


async def eventually(
    condition: Callable[[], Awaitable[bool]], message: str, deadline: float = DEADLINE
) -> None:
    """Poll an asynchronous condition until it holds or the deadline passes."""
    end = time.monotonic() + deadline
    while not await condition():
        if time.monotonic() > end:
            raise AssertionError(message)
        await asyncio.sleep(0.01)


async def within(awaitable: Awaitable[T], deadline: float = DEADLINE) -> T:
    return await asyncio.wait_for(awaitable, deadline)


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def post(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = await self.http.post(
            "/graphql", json={"query": query, "variables": variables or {}}
        )
        assert response.status_code < 500, response.text
        body: dict[str, Any] = response.json()
        return body

    async def data(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.post(query, variables)
        assert "errors" not in body, body["errors"]
        data: dict[str, Any] = body["data"]
        return data

    async def error(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        body = await self.post(query, variables)
        assert body.get("errors"), body
        error: dict[str, Any] = body["errors"][0]
        return error


def recorded(exporter: InMemorySpanExporter) -> TracerProvider:
    """A tracer provider that hands every span, as it ends, to ``exporter``."""
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


@contextmanager
def serving(
    command: list[str], ready: str, env: Mapping[str, str] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """``command`` running until the block ends, entered once ``ready`` (a URL) answers 200."""
    process = subprocess.Popen(command, env={**os.environ, **(env or {})})
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(ready).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError(f"{' '.join(command[:2])} did not become ready at {ready}")
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        process.wait(30)


class CountingStore(DuckDBStore):
    """An in-memory DuckDB store that counts its rollup reads (one per computation of an
    aggregate)."""

    def __init__(self) -> None:
        super().__init__()
        self.rollup_reads = 0

    async def rollup_stats(self, *args: Any, **kwargs: Any) -> Any:
        self.rollup_reads += 1
        return await super().rollup_stats(*args, **kwargs)
