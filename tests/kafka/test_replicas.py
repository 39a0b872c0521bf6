"""Replicas that share live updates through the live topic.

Two gateways on one broker, in one consumer group (each applies the partitions it owns) and over
one store, each with its own event loop, live bus, subscriptions and cache: what one applies
reaches the other's subscribers only through the live topic. They run as two threads sharing one
DuckDB store because a DuckDB file is opened by one process; with ``MONGODB_URL`` set, the same
runs as two ``gql-analytics serve`` processes over MongoDB.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from datetime import timedelta
from urllib.parse import urlsplit, urlunsplit

import httpx
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, socket
from tests.kafka.broker import free_port, kafka_flags, produce
from tests.support import DEADLINE, GATEWAY, GraphQLClient, ServerThread, eventually, iso

# A fixed range: it never slides, so only a change can make the count move.
PURCHASES = (
    "subscription($from: DateTime!, $to: DateTime!) {"
    ' eventCount(name: "purchase", range: {from: $from, to: $to}) { count } }'
)
OWNED = "{ ingestStatus { applied partitions { topic partition } } }"


class SharedStore(DuckDBStore):
    """One store for both replicas: each app's stop leaves it open for the other."""

    async def close(self) -> None:
        pass

    async def really_close(self) -> None:
        await super().close()


@pytest.fixture
def replica_settings(kafka_settings: Settings) -> Settings:
    live = kafka_settings.kafka_topics[0] + ".live"
    return kafka_settings.model_copy(update={"kafka_live_topic": live})


@asynccontextmanager
async def replicas(settings: Settings) -> AsyncIterator[tuple[str, str]]:
    """Two gateways sharing a store; their base URLs once both are ready."""
    store = SharedStore()
    try:
        with (
            ServerThread(create_app(settings, store=store, clock=utc_now)) as a,
            ServerThread(create_app(settings, store=store, clock=utc_now)) as b,
        ):
            yield a.base_url, b.base_url
    finally:
        await store.really_close()


@contextmanager
def processes(settings: Settings, store_url: str) -> Iterator[tuple[str, str]]:
    """Two ``gql-analytics serve`` processes over one MongoDB store."""
    ports = [free_port(), free_port()]
    command = [GATEWAY, "serve", "--no-auth"]
    flags = ["--store", store_url, *kafka_flags(settings)]
    servers = [subprocess.Popen([*command, "--port", str(p), *flags]) for p in ports]
    try:
        yield f"http://127.0.0.1:{ports[0]}", f"http://127.0.0.1:{ports[1]}"
    finally:
        for server in servers:
            server.terminate()
            server.wait(30)


async def subscriber_on_a_sees_what_b_applied(a_url: str, b_url: str, settings: Settings) -> None:
    async with (
        httpx.AsyncClient(base_url=a_url, timeout=DEADLINE) as a_http,
        httpx.AsyncClient(base_url=b_url, timeout=DEADLINE) as b_http,
    ):
        a, b = GraphQLClient(a_http), GraphQLClient(b_http)
        topic = settings.kafka_topics[0]
        owned: dict[str, set[int]] = {}

        async def both_ready_and_split() -> bool:
            for name, http, client in (("a", a_http, a), ("b", b_http, b)):
                try:
                    if (await http.get("/ready")).status_code != 200:
                        return False
                except httpx.TransportError:
                    return False
                status = (await client.data(OWNED))["ingestStatus"]["partitions"]
                owned[name] = {p["partition"] for p in status if p["topic"] == topic}
            return bool(owned["a"]) and bool(owned["b"]) and not owned["a"] & owned["b"]

        await eventually(both_ready_and_split, "the replicas did not share the partitions", 60)
        partition = min(owned["b"])
        async with socket(Remote(a_url), TRANSPORT_WS) as ws:
            now = utc_now()
            window = {"from": iso(now - timedelta(hours=1)), "to": iso(now + timedelta(hours=1))}
            await ws.subscribe(PURCHASES, window)
            assert (await ws.next_data())["eventCount"]["count"] == 0
            bootstrap = settings.kafka_bootstrap_servers or ""
            await produce(bootstrap, topic, [{"event": "purchase"}] * 3, partition=partition)
            counts = [(await ws.next_data())["eventCount"]["count"]]
            while counts[-1] < 3:
                counts.append((await ws.next_data())["eventCount"]["count"])
            assert counts[-1] == 3
        assert (await a.data(OWNED))["ingestStatus"]["applied"] == 0  # B applied them all
        assert (await b.data(OWNED))["ingestStatus"]["applied"] == 3


class Remote:
    """A server this test did not start, as ``socket`` sees it."""

    def __init__(self, base_url: str) -> None:
        self.ws_url = base_url.replace("http://", "ws://") + "/graphql"


async def test_a_subscriber_on_one_replica_sees_records_another_applied(
    replica_settings: Settings,
) -> None:
    async with replicas(replica_settings) as (a, b):
        await subscriber_on_a_sees_what_b_applied(a, b, replica_settings)


@pytest.mark.skipif(
    not os.environ.get("MONGODB_URL"),
    reason="MONGODB_URL unset: two gateway processes need a store server to share",
)
async def test_two_gateway_processes_share_live_updates(replica_settings: Settings) -> None:
    parts = urlsplit(os.environ["MONGODB_URL"])
    database = f"/replicas_{replica_settings.kafka_group_id}_{os.getpid()}"
    url = urlunsplit(parts._replace(path=database))
    with processes(replica_settings, url) as (a, b):
        await subscriber_on_a_sees_what_b_applied(a, b, replica_settings)
