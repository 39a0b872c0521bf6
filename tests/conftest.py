from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.support import DEADLINE, Clock, GraphQLClient, ServerThread


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def server(clock: Clock) -> Iterator[ServerThread]:
    """A real uvicorn server over an in-memory DuckDB store, on a free loopback port."""
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    app = create_app(settings, store=DuckDBStore(), clock=clock)
    with ServerThread(app) as running:
        yield running


@pytest.fixture
async def client(server: ServerThread) -> AsyncIterator[GraphQLClient]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        yield GraphQLClient(http)
