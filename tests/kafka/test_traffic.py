from __future__ import annotations

import asyncio

import pytest

from gql_analytics import cli
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.ports import EventQuery
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings


@pytest.mark.parametrize("shape", ["event", "metric", "task", "seed-task"])
async def test_produced_demo_traffic_is_accepted_whole(
    kafka_settings: Settings, shape: str
) -> None:
    topic = kafka_settings.kafka_topics[0]
    argv = [
        "produce",
        "--kafka",
        kafka_settings.kafka_bootstrap_servers or "",
        "--topic",
        topic,
        "--shape",
        shape,
        "--count",
        "200",
        "--rate",
        "0",
    ]
    assert await asyncio.to_thread(cli.main, argv) == 0
    store = DuckDBStore()
    ingest = kafka_consumer(kafka_settings, store, InProcessBus(), clock=utc_now, stop_at_end=True)
    await asyncio.wait_for(ingest.run(asyncio.Event()), 60)
    assert (ingest.totals.applied, ingest.totals.dead_lettered) == (200, 0)
    if shape in {"task", "seed-task"}:
        assert await store.count_events(EventQuery("default", names=("task_created",))) > 0
    await store.close()
