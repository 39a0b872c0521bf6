"""Readiness and raw-data retention, on a real server."""

from __future__ import annotations

from datetime import timedelta

import httpx

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.domain.records import Batch, Event
from gql_analytics.errors import StoreUnavailable
from gql_analytics.settings import Settings
from tests.support import DEADLINE, NOW, ServerThread, eventually


class UnreachableStore(DuckDBStore):
    async def ping(self) -> None:
        raise StoreUnavailable("store: connection refused")


async def test_ready_reports_a_store_that_does_not_answer() -> None:
    with ServerThread(
        create_app(Settings(auth=False), store=UnreachableStore(), clock=lambda: NOW)
    ) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            ready = await http.get("/ready")
            health = await http.get("/health")
    assert ready.status_code == 503
    assert ready.json() == {"status": "unavailable", "store": "store: connection refused"}
    assert health.status_code == 200


async def test_raw_records_older_than_retention_are_purged_and_rollups_stay() -> None:
    store = DuckDBStore()
    old = Event("old", "login", "default", NOW - timedelta(days=40), NOW - timedelta(days=40))
    recent = Event("recent", "login", "default", NOW - timedelta(days=1), NOW - timedelta(days=1))
    await store.apply(Batch([old, recent]))
    app = create_app(Settings(auth=False, retention_days=30), store=store, clock=lambda: NOW)
    with ServerThread(app) as server:

        async def purged() -> bool:
            return await _remaining(server) == 1

        await eventually(purged, "the old raw event was not purged")
        async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
            body = (
                await http.post(
                    "/graphql", json={"query": '{ topEvents(range: {last: "60d"}) { count } }'}
                )
            ).json()
    assert body["data"]["topEvents"] == [{"count": 2}]


async def _remaining(server: ServerThread) -> int:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        body = (await http.post("/graphql", json={"query": "{ events { totalCount } }"})).json()
    return int(body["data"]["events"]["totalCount"])
