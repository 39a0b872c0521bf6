"""A partition whose log no longer holds the store's position (the topic recreated, the broker's
data lost) is noticed, reported and read again from its start: nothing is skipped silently."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from prometheus_client.parser import text_string_to_metric_families

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.kafka.consumer import KafkaIngest
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import EventQuery, PositionResetKind, Store
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.kafka.broker import KAFKA_DEADLINE, create_topics, produce, recreate_topic
from tests.kafka.conftest import OwnBroker
from tests.support import DEADLINE, eventually


@asynccontextmanager
async def consuming(store: Store, settings: Settings) -> AsyncIterator[KafkaIngest]:
    """A consumer on ``store`` for the block, stopped (batch finished, group left) after it."""
    ingest = kafka_consumer(settings, store, InProcessBus(), clock=utc_now)
    stopping = asyncio.Event()
    running = asyncio.create_task(ingest.run(stopping))
    try:
        yield ingest
    finally:
        stopping.set()
        await asyncio.wait_for(running, DEADLINE)


def views(prefix: str, numbers: range) -> list[dict[str, str]]:
    return [{"event": "view", "id": f"{prefix}{i}"} for i in numbers]


def without_ids(prefix: str, numbers: range) -> list[dict[str, str]]:
    """Records whose ids are derived from where they are: the new log's records stand where the
    old log's did, and must not be taken for them."""
    return [{"event": "view", "page": f"{prefix}{i}"} for i in numbers]


async def applied(ingest: KafkaIngest, count: int) -> None:
    async def done() -> bool:
        return ingest.totals.applied == count

    await eventually(done, f"the consumer did not apply {count} records", KAFKA_DEADLINE)


def resets_scraped(ingest: KafkaIngest) -> dict[tuple[str, str, str], float]:
    metrics = Metrics()
    metrics.watch_consumer(ingest)
    return {
        (s.labels["topic"], s.labels["partition"], s.labels["kind"]): s.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for s in family.samples
        if s.name == "gql_analytics_kafka_position_resets_total"
    }


async def test_a_recreated_topic_is_read_again_from_its_start_and_the_reset_is_reported(
    kafka_settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    store = DuckDBStore()
    await produce(bootstrap, topic, without_ids("old", range(100)), partition=0)
    async with consuming(store, kafka_settings) as first:
        await applied(first, 100)
    assert (await store.positions(topic))[0] == 100

    await recreate_topic(bootstrap, topic)
    await produce(bootstrap, topic, without_ids("new", range(30)), partition=0)  # ends before 100
    async with consuming(store, kafka_settings) as second:
        await applied(second, 30)
        (reset,) = second.totals.position_resets
        assert (reset.topic, reset.partition, reset.kind) == (
            topic,
            0,
            PositionResetKind.BEYOND_END,
        )
        assert (reset.position, reset.log_start, reset.log_end, reset.resumed_at) == (
            100,
            0,
            30,
            0,
        )
        assert (await store.positions(topic))[0] == 30  # moved back: no later seek to 100
        (status,) = [s for s in await second.status() if (s.topic, s.partition) == (topic, 0)]
        assert status.position_resets == 1
        assert status.last_position_reset == reset
        assert resets_scraped(second) == {(topic, "0", "beyond_end"): 1}

        await produce(bootstrap, topic, without_ids("new", range(30, 130)), partition=0)
        await applied(second, 130)
    assert await store.count_events(EventQuery("default")) == 230
    assert (await store.positions(topic))[0] == 130
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("before the position 100" in message for message in errors)


async def test_a_broker_that_lost_its_data_under_a_running_consumer_is_read_from_its_start(
    own_broker: OwnBroker,
) -> None:
    topic = "lost"
    settings = Settings(
        auth=False,
        kafka_bootstrap_servers=own_broker.address,
        kafka_topics=(topic,),
        kafka_group_id="lost",
    )
    await create_topics(own_broker.address, [topic], partitions=1)
    await produce(own_broker.address, topic, views("old", range(50)), partition=0)
    store = DuckDBStore()
    async with consuming(store, settings) as ingest:
        await applied(ingest, 50)
        own_broker.restart()  # same address, nothing in it: the topic, records, offsets gone
        # The consumer may rejoin first, and Tansu then creates the topic with partitions of
        # its own choosing: what follows uses partition 0 only.
        await create_topics(own_broker.address, [topic], partitions=1)
        await produce(own_broker.address, topic, views("new", range(20)), partition=0)
        await applied(ingest, 70)
        assert [r.kind for r in ingest.totals.position_resets] == [PositionResetKind.BEYOND_END]
    assert (await store.positions(topic))[0] == 20


async def test_with_the_pause_policy_a_reset_partition_waits_for_an_operator(
    kafka_settings: Settings,
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    paused = kafka_settings.model_copy(update={"kafka_on_position_reset": "pause"})
    store = DuckDBStore()
    await produce(bootstrap, topic, views("old", range(40)), partition=0)
    async with consuming(store, paused) as first:
        await applied(first, 40)
    await recreate_topic(bootstrap, topic)
    await produce(bootstrap, topic, views("new", range(10)), partition=0)
    async with consuming(store, paused) as second:

        async def reported() -> bool:
            return bool(second.totals.position_resets)

        await eventually(reported, "the reset was not reported", KAFKA_DEADLINE)
        (reset,) = second.totals.position_resets
        assert reset.resumed_at is None
        assert second.totals.applied == 0
    assert (await store.positions(topic))[0] == 40  # left for the operator to decide
