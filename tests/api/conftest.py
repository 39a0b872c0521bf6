"""A server with auth on (its store at hand to make keys in), and an HTTP client of it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gql_analytics.app import create_app
from gql_analytics.settings import Settings
from gql_analytics.store.duckdb import DuckDBStore
from tests.api.secured import Keys
from tests.support import DEADLINE, Clock, ServerThread


@pytest.fixture
def store() -> DuckDBStore:
    return DuckDBStore()


@pytest.fixture
def keys(store: DuckDBStore) -> Keys:
    return Keys(store)


@pytest.fixture
def secured(store: DuckDBStore, clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(store_url="duckdb:///:memory:", live_throttle_ms=20)
    assert settings.auth  # on by default
    with ServerThread(create_app(settings, store=store, clock=clock)) as server:
        yield server


@pytest.fixture
async def http(secured: ServerThread) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=secured.base_url, timeout=DEADLINE) as client:
        yield client
