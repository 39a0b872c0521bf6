from __future__ import annotations

import asyncio
import itertools
import signal
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.ports import Store
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.kafka.broker import (
    KAFKA_DEADLINE,
    create_topics,
    free_port,
    start_tansu,
    stop_tansu,
    tansu,
)
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


class OwnBroker:
    """A Tansu broker of one test's own, to kill, freeze or restart (empty) at one address."""

    def __init__(self) -> None:
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] = start_tansu(self.port)

    def kill(self) -> None:
        self.process.kill()
        self.process.wait()

    def freeze(self) -> None:
        """Still listening (the kernel accepts connections), answering nothing."""
        self.process.send_signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self.process.send_signal(signal.SIGCONT)

    def restart(self) -> None:
        """Stopped and started again on the same port: everything it held is gone."""
        stop_tansu(self.process)
        self.process = start_tansu(self.port)


@pytest.fixture
def own_broker() -> Iterator[OwnBroker]:
    broker = OwnBroker()
    yield broker
    stop_tansu(broker.process)


RunConsumer = Callable[..., Awaitable[KafkaIngest]]


@pytest.fixture
async def run_consumer(kafka_settings: Settings) -> AsyncIterator[RunConsumer]:
    """Start consumers (as background tasks) on a store; all are stopped after the test."""
    stopping = asyncio.Event()
    tasks: list[asyncio.Task[None]] = []

    async def start(store: Store, bus: InProcessBus | None = None) -> KafkaIngest:
        ingest = kafka_consumer(kafka_settings, store, bus or InProcessBus(), clock=utc_now)
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
