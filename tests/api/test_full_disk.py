"""A full disk under the DuckDB store: writes fail as STORE_UNAVAILABLE naming the cause, the
cause is what is logged, and /ready says the store cannot take writes."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import duckdb
import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.domain.records import Batch, Event
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import EventQuery
from gql_analytics.settings import Settings
from tests.support import DEADLINE, NOW, GraphQLClient, ServerThread

# What DuckDB 1.x/2.x raises from COMMIT when its WAL cannot be written (seen on a full tmpfs).
NO_SPACE = (
    'TransactionContext Error: Failed to commit: Could not write file "analytics.duckdb.wal":'
    " No space left on device"
)
TRACK = 'mutation { trackEvent(input: {name: "x"}) { accepted } }'


class FullDiskWriter:
    """The store's writer connection on a full disk: each commit fails as DuckDB's does, having
    ended the transaction itself (so a rollback after it fails too: "no transaction is
    active")."""

    def __init__(self, connection: duckdb.DuckDBPyConnection) -> None:
        self._connection = connection

    def __getattr__(self, name: str) -> Any:
        return getattr(self._connection, name)

    def commit(self) -> None:
        self._connection.rollback()
        raise duckdb.TransactionException(NO_SPACE)


@contextmanager
def full_disk(store: DuckDBStore) -> Iterator[None]:
    writer = store._connection
    store._connection = cast(duckdb.DuckDBPyConnection, FullDiskWriter(writer))
    try:
        yield
    finally:
        store._connection = writer


def event(id: str) -> Event:
    return Event(id, "view", "default", NOW, NOW)


async def test_a_write_on_a_full_disk_is_store_unavailable_and_logs_the_cause(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = DuckDBStore()
    with full_disk(store), pytest.raises(StoreUnavailable, match="No space left on device"):
        await store.apply(Batch([event("e1")]))
    logged = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("No space left on device" in r.getMessage() for r in logged)
    assert "no transaction is active" not in caplog.text
    await store.apply(Batch([event("e1")]))  # space again: the same write now commits
    assert await store.count_events(EventQuery("default")) == 1


async def test_on_a_full_disk_mutations_are_store_unavailable_and_ready_says_why() -> None:
    store = DuckDBStore()
    with ServerThread(create_app(Settings(auth=False), store=store, clock=lambda: NOW)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            client = GraphQLClient(http)
            with full_disk(store):
                error = await client.error(TRACK)
                ready = await http.get("/ready")
            assert error["extensions"]["code"] == "STORE_UNAVAILABLE"
            assert "No space left on device" in error["message"]
            assert ready.status_code == 503
            assert "No space left on device" in ready.json()["store"]
            assert (await http.get("/ready")).status_code == 200
            assert (await client.data(TRACK))["trackEvent"] == {"accepted": 1}


async def test_ready_says_the_store_cannot_write_while_its_disk_is_below_the_floor(
    tmp_path: Path,
) -> None:
    free = {"bytes": 4096}
    store = DuckDBStore(
        str(tmp_path / "analytics.duckdb"),
        min_free_bytes=64 * 1024 * 1024,
        free_bytes=lambda where: free["bytes"],
    )
    with ServerThread(create_app(Settings(auth=False), store=store, clock=lambda: NOW)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            low = await http.get("/ready")
            free["bytes"] = 1024**3
            enough = await http.get("/ready")
    assert low.status_code == 503
    assert low.json()["store"].startswith("store: 4096 bytes free on the disk of")
    assert enough.status_code == 200
