"""A consumer process killed with SIGKILL part-way, then restarted: nothing lost, nothing twice."""

from __future__ import annotations

import asyncio
import random
import re
import signal
import sys
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pymongo import AsyncMongoClient

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.mongodb.store import MongoStore
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import EventQuery, Store
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.kafka.broker import kafka_flags, produce
from tests.kafka.test_consumer import service_for
from tests.mongodb_standin import REAL

RECORDS = 50_000
TOTALS = re.compile(r"totals applied=(\d+)")


def workload(seed: int = 11) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """50,000 messages (events, metric points, task facts) with repeated ids and timestamps out of
    order, and the unique records they stand for."""
    rng = random.Random(seed)
    now = utc_now()
    unique: list[dict[str, Any]] = []
    for i in range(RECORDS * 9 // 10):
        at = (now - timedelta(seconds=rng.uniform(60, 2 * 86400))).isoformat()
        kind = rng.random()
        if kind < 0.5:
            unique.append(
                {
                    "event": rng.choice(["view", "click", "search"]),
                    "id": f"e{i}",
                    "user_id": f"u{rng.randrange(50)}",
                    "timestamp": at,
                }
            )
        elif kind < 0.8:
            unique.append(
                {
                    "metric_name": "latency",
                    "id": f"m{i}",
                    "value": round(rng.uniform(1, 500), 3),
                    "tags": {"region": rng.choice(["eu", "us"])},
                    "timestamp": at,
                }
            )
        else:
            task = f"t{i // 2}"
            name = "task_created" if i % 2 == 0 else "task_completed"
            unique.append(
                {
                    "event": name,
                    "id": f"k{i}",
                    "task_id": task,
                    "user_id": f"u{rng.randrange(50)}",
                    "timestamp": at,
                }
            )
    messages = unique + rng.sample(unique, RECORDS - len(unique))
    rng.shuffle(messages)
    return messages, unique


async def consume(settings: Settings, store_url: str, *extra: str) -> asyncio.subprocess.Process:
    return await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "gql_analytics.cli",
        "consume",
        "--store",
        store_url,
        *kafka_flags(settings),
        *extra,
        stderr=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.DEVNULL,
    )


def crash_store(kind: str, tmp_path: Path) -> tuple[str, Callable[[], Store]]:
    """A store URL for the consumer processes, and how the test opens that store to read it."""
    if kind == "duckdb":
        path = tmp_path / "recovery.duckdb"
        return f"duckdb:///{path}", lambda: DuckDBStore(str(path))
    assert REAL is not None
    parts = urlsplit(REAL)
    database = f"gql_analytics_crash_{uuid.uuid4().hex[:12]}"
    url = urlunsplit(parts._replace(path="/" + database))
    return url, lambda: MongoStore(AsyncMongoClient(REAL, tz_aware=True), database)


STORES = [
    "duckdb",
    pytest.param(
        "mongodb",
        marks=pytest.mark.skipif(
            REAL is None,
            reason="MONGODB_URL unset: the in-process MongoDB stand-in cannot outlive a killed "
            "consumer process",
        ),
    ),
]


@pytest.mark.parametrize("kind", STORES)
async def test_a_consumer_killed_mid_stream_and_restarted_counts_everything_exactly_once(
    kind: str, kafka_settings: Settings, tmp_path: Path
) -> None:
    messages, unique = workload()
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    for partition in range(3):
        await produce(
            bootstrap, kafka_settings.kafka_topics[0], messages[partition::3], partition=partition
        )
    store_url, open_store = crash_store(kind, tmp_path)

    first = await consume(kafka_settings, store_url)
    assert first.stderr is not None
    applied = 0
    while applied < RECORDS // 4:
        line = await asyncio.wait_for(first.stderr.readline(), 60)
        assert line, "the first consumer ended before it was killed"
        if match := TOTALS.search(line.decode()):
            applied = int(match.group(1))
    first.send_signal(signal.SIGKILL)
    await asyncio.wait_for(first.wait(), 30)
    assert applied < len(unique), "the kill came too late to test anything"

    second = await consume(kafka_settings, store_url, "--exit-at-end")
    _, errors = await asyncio.wait_for(second.communicate(), 120)
    assert second.returncode == 0, errors.decode()[-2000:]

    store = open_store()
    service = service_for(store)
    now = utc_now()
    window = TimeRange(now - timedelta(days=3), now + timedelta(minutes=1))
    events = [m for m in unique if "event" in m]
    assert await store.count_events(EventQuery("default")) == len(events)
    series = await service.event_counts("default", None, window, Interval.DAY)
    assert {s.name: s.total for s in series} == dict(Counter(m["event"] for m in events))
    metric = await service.metric("default", "latency", window, Interval.DAY)
    values = [m["value"] for m in unique if "metric_name" in m]
    assert metric.overall.count == len(values)
    assert abs(metric.overall.sum - sum(values)) < 1e-6 * sum(values)
    created: Counter[str] = Counter()
    owner: dict[str, str] = {}
    done: set[str] = set()
    for m in events:
        if m["event"] == "task_created":
            created[m["user_id"]] += 1
            owner[m["task_id"]] = m["user_id"]
        elif m["event"] == "task_completed":
            done.add(m["task_id"])
    completed: defaultdict[str, int] = defaultdict(int)
    for task in done & owner.keys():
        completed[owner[task]] += 1
    users, _, _ = await service.tasks_per_user("default", window, 500, None)
    assert {u.user_id: (u.created, u.completed) for u in users} == {
        user: (n, completed[user]) for user, n in created.items()
    }
    positions = await store.positions(kafka_settings.kafka_topics[0])
    assert sum(positions.values()) == RECORDS
    await store.close()


async def test_sigterm_finishes_the_batch_commits_and_exits_zero(
    kafka_settings: Settings, tmp_path: Path
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    await produce(
        bootstrap, topic, [{"event": "view", "id": f"v{i}"} for i in range(20_000)], partition=0
    )
    store_url = f"duckdb:///{tmp_path}/term.duckdb"
    worker = await consume(kafka_settings, store_url)
    assert worker.stderr is not None
    while True:
        line = await asyncio.wait_for(worker.stderr.readline(), 60)
        assert line, "the consumer ended on its own"
        if TOTALS.search(line.decode()):
            break
    worker.send_signal(signal.SIGTERM)
    await asyncio.wait_for(worker.communicate(), 60)
    assert worker.returncode == 0

    store = DuckDBStore(str(tmp_path / "term.duckdb"))
    stored = await store.positions(topic)
    applied = await store.count_events(EventQuery("default"))
    await store.close()
    reader = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=kafka_settings.kafka_group_id)
    await reader.start()
    try:
        committed = await reader.committed(TopicPartition(topic, 0))
    finally:
        await reader.stop()
    assert committed == stored[0] == applied
