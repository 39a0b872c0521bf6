"""Servers the API tests share: one with auth on (its store at hand to make keys in) and an HTTP
client of it; a live one; and one whose sockets opened with ``?slow`` have their sends held."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.settings import Settings
from tests.api.secured import Keys
from tests.api.sockets import HeldSends
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


@pytest.fixture
def live(clock: Clock) -> Iterator[ServerThread]:
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    with ServerThread(create_app(settings, store=DuckDBStore(), clock=clock)) as server:
        yield server


@pytest.fixture
def held(clock: Clock) -> Iterator[tuple[ServerThread, HeldSends]]:
    settings = Settings(auth=False, store_url="duckdb:///:memory:", live_throttle_ms=20)
    app = HeldSends(create_app(settings, store=DuckDBStore(), clock=clock))
    with ServerThread(app) as server:
        try:
            yield server, app
        finally:
            app.release.set()  # a send still held would keep the server from stopping
