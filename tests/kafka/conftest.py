from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from gql_analytics.kafka.consumer import KafkaIngest
from gql_analytics.live import InProcessBus
from gql_analytics.ports import Store
from gql_analytics.service import utc_now
from gql_analytics.settings import Settings
from gql_analytics.store.duckdb import DuckDBStore
from tests.kafka.broker import KAFKA_DEADLINE, create_topics, tansu
from tests.mongodb_standin import NAME, REAL, mongodb_store

_names = itertools.count()


@pytest.fixture(scope="session")
def bootstrap() -> Iterator[str]:
    with tansu() as address:
        yield address


@pytest.fixture
async def kafka_settings(bootstrap: str) -> Settings:
    """Settings with topics of this test's own (three partitions each), on the shared broker."""
    n = next(_names)
    topics = (f"events{n}", f"metrics{n}", f"tasks{n}")
    await create_topics(bootstrap, topics)
    return Settings(
        auth=False,
        store_url="duckdb:///:memory:",
        kafka_bootstrap_servers=bootstrap,
        kafka_topics=topics,
        kafka_group_id=f"group{n}",
        live_throttle_ms=20,
    )


RunConsumer = Callable[..., Awaitable[KafkaIngest]]


@pytest.fixture
async def run_consumer(kafka_settings: Settings) -> AsyncIterator[RunConsumer]:
    """Start consumers (as background tasks) on a store; all are stopped after the test."""
    stopping = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def start(store: Store, bus: InProcessBus | None = None) -> KafkaIngest:
        ingest = KafkaIngest(store, bus or InProcessBus(), kafka_settings, clock=utc_now)
        tasks.append(asyncio.create_task(ingest.run(stopping)))
        return ingest

    yield start
    stopping.set()
    await asyncio.wait_for(asyncio.gather(*tasks), KAFKA_DEADLINE)


@pytest.fixture(params=["duckdb", "mongodb"], ids=["duckdb", f"mongodb {REAL or NAME}"])
async def store(request: pytest.FixtureRequest) -> AsyncIterator[Store]:
    """Each store adapter in turn, for the tests of the exactly-once effect."""
    if request.param == "mongodb":
        async for mongodb in mongodb_store():
            yield mongodb
        return
    duckdb = DuckDBStore()
    yield duckdb
    await duckdb.close()
