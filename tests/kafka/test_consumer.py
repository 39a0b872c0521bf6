"""The Kafka consumer against a real broker: shapes, duplicates, poison, groups."""

from __future__ import annotations

import asyncio
import math
from datetime import timedelta
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from prometheus_client.parser import text_string_to_metric_families

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.adapters.mongodb.store import MongoStore
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.domain.records import ApplyResult, Batch, SourcePosition
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import StoreUnavailable
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import EventQuery, StagedMessages, StagedResult, Store
from gql_analytics.services.analytics import AnalyticsService, utc_now
from gql_analytics.services.ingest.pipeline import IngestPipeline
from gql_analytics.settings import Settings
from tests.kafka.broker import KAFKA_DEADLINE, produce
from tests.kafka.conftest import RunConsumer
from tests.mongodb_standin import StandInClient
from tests.support import eventually


async def produce_views(settings: Settings, count: int) -> str:
    """``count`` view events with ids v0, v1, ... to partition 0 of the first topic; its name."""
    topic = settings.kafka_topics[0]
    messages = [{"event": "view", "id": f"v{i}"} for i in range(count)]
    await produce(settings.kafka_bootstrap_servers or "", topic, messages, partition=0)
    return topic


def service_for(store: Store) -> AnalyticsService:
    return AnalyticsService(store, IngestPipeline(store, InProcessBus()))


async def test_every_upstream_shape_is_applied_with_exact_aggregates(
    kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    now = utc_now()
    events, metrics, tasks = kafka_settings.kafka_topics

    def ago(minutes: int) -> str:
        return (now - timedelta(minutes=minutes)).isoformat()

    await produce(
        kafka_settings.kafka_bootstrap_servers or "",
        tasks,
        [
            {"event": "task_created", "user_id": "u1", "task_id": "t1", "timestamp": ago(90)},
            {"event": "task_completed", "user_id": "u1", "task_id": "t1", "timestamp": ago(30)},
            {"event": "task_created", "user_id": "u2", "task_id": "t2", "timestamp": ago(20)},
        ],
    )
    await produce(
        kafka_settings.kafka_bootstrap_servers or "",
        events,
        [
            {
                "eventType": "user_signup",
                "source": "auth",
                "occurredAt": ago(5),
                "payload": {"userId": "u3"},
            },
            {
                "event_name": "user_signup",
                "user_id": "u4",
                "properties": {"plan": "pro"},
                "timestamp": ago(4),
            },
        ],
    )
    values = [float(v) for v in range(1, 101)]
    await produce(
        kafka_settings.kafka_bootstrap_servers or "",
        metrics,
        [
            {
                "metric_name": "api_response_time",
                "value": v,
                "tags": {"endpoint": "/x"},
                "timestamp": ago(2),
            }
            for v in values
        ],
    )
    store = DuckDBStore()
    ingest = await run_consumer(store)

    async def all_applied() -> bool:
        return ingest.totals.applied == 105

    await eventually(
        all_applied, "the consumer did not apply all 105 records", deadline=KAFKA_DEADLINE
    )
    service = service_for(store)
    window = TimeRange(now - timedelta(hours=3), now)
    (signups,) = await service.event_counts("default", ["user_signup"], window, Interval.HOUR)
    assert signups.total == 2
    metric = await service.metric("default", "api_response_time", window, Interval.HOUR)
    assert (metric.overall.count, metric.overall.sum) == (100, sum(values))
    p50, p95 = metric.overall.p50, metric.overall.p95
    assert p50 is not None
    assert math.isclose(p50, 50.0, rel_tol=0.01)
    assert p95 is not None
    assert math.isclose(p95, 95.0, rel_tol=0.01)
    users, _, total = await service.tasks_per_user("default", window, 10, None)
    assert total == 2
    assert [(u.user_id, u.created, u.completed, u.avg_completion_seconds) for u in users] == [
        ("u1", 1, 1, 3600.0),
        ("u2", 1, 0, None),
    ]
    assert ingest.totals.dead_lettered == 0


async def test_the_same_event_id_produced_twice_is_counted_once(
    store: Store, kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    topic = kafka_settings.kafka_topics[0]
    message = {"event": "purchase", "id": "order-1", "user_id": "u1"}
    await produce(kafka_settings.kafka_bootstrap_servers or "", topic, [message, message])
    ingest = await run_consumer(store)

    async def both_seen() -> bool:
        return ingest.totals.applied + ingest.totals.duplicates == 2

    await eventually(both_seen, "the consumer did not see both copies", deadline=KAFKA_DEADLINE)
    assert (ingest.totals.applied, ingest.totals.duplicates) == (1, 1)
    assert (
        await service_for(store).event_count(
            "default",
            "purchase",
            TimeRange(utc_now() - timedelta(hours=1), utc_now() + timedelta(minutes=1)),
        )
        == 1
    )


async def test_a_poison_message_is_dead_lettered_and_the_rest_applied(
    kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    await produce(
        bootstrap,
        topic,
        [
            {"event": "before"},
            b"{not json",
            {"unknown": "shape"},
            {"event": "bad name!"},
            {"event": "after"},
        ],
        partition=0,
    )
    store = DuckDBStore()
    ingest = await run_consumer(store)

    async def done() -> bool:
        return ingest.totals.applied == 2 and ingest.totals.dead_lettered == 3

    await eventually(
        done,
        "poison messages blocked the partition or were not dead-lettered",
        deadline=KAFKA_DEADLINE,
    )
    received = await dead_letters(bootstrap, topic + ".dlq", 3)
    headers = [
        dict(m.headers) for m in sorted(received, key=lambda m: int(dict(m.headers)["dlq.offset"]))
    ]
    assert [h["dlq.reason"] for h in headers] == [b"NOT_JSON", b"UNKNOWN_SHAPE", b"BAD_NAME"]
    assert [h["dlq.offset"] for h in headers] == [b"1", b"2", b"3"]
    assert {h["dlq.topic"] for h in headers} == {topic.encode()}
    assert {h["dlq.partition"] for h in headers} == {b"0"}
    assert min(received, key=lambda m: int(dict(m.headers)["dlq.offset"])).value == b"{not json"
    assert sorted(m.key for m in received) == [f"{topic}/0/{n}".encode() for n in (1, 2, 3)]


async def dead_letters(bootstrap: str, topic: str, count: int) -> list[Any]:
    """The first ``count`` messages of a dead-letter topic."""
    letters = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", group_id=None
    )
    await letters.start()
    try:
        received: list[Any] = []
        while len(received) < count:
            more = await letters.getmany(timeout_ms=int(KAFKA_DEADLINE * 1000))
            assert more, "dead letters did not arrive"
            received += [m for messages in more.values() for m in messages]
    finally:
        await letters.stop()
    return received


async def test_a_message_dead_lettered_twice_is_a_repeat_its_reader_can_tell(
    kafka_settings: Settings,
) -> None:
    """A crash between dead-lettering and the commit dead-letters again on redelivery; here two
    consumer groups, each with a store of its own, read the same poison."""
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    await produce(bootstrap, topic, [b"{not json", {"event": "bad name!"}], partition=0)
    stopping = asyncio.Event()
    runs = []
    for group in ("first", "second"):
        group_id = kafka_settings.kafka_group_id + group
        settings = kafka_settings.model_copy(update={"kafka_group_id": group_id})
        ingest = kafka_consumer(settings, DuckDBStore(), InProcessBus(), clock=utc_now)
        runs.append(asyncio.create_task(ingest.run(stopping)))
    try:
        received = await dead_letters(bootstrap, topic + ".dlq", 4)
    finally:
        stopping.set()
        await asyncio.wait_for(asyncio.gather(*runs), KAFKA_DEADLINE)
    keys = sorted(m.key for m in received)
    assert keys == sorted([f"{topic}/0/0".encode(), f"{topic}/0/1".encode()] * 2)


async def test_two_consumers_in_one_group_split_partitions_and_apply_everything_once(
    store: Store, kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topics = kafka_settings.kafka_topics
    first = await run_consumer(store)
    second = await run_consumer(store)

    async def split() -> bool:
        mine, theirs = first.assignment(), second.assignment()
        return bool(mine) and bool(theirs) and len(mine | theirs) == 3 * len(topics)

    await eventually(
        split, "the two consumers did not split the partitions", deadline=KAFKA_DEADLINE
    )
    assert not first.assignment() & second.assignment()
    for partition in range(3):
        await produce(
            bootstrap,
            topics[0],
            [
                {"event": "click", "id": f"c{partition}-{i}", "user_id": f"u{i % 7}"}
                for i in range(1000)
            ],
            partition=partition,
        )

    async def all_applied() -> bool:
        return first.totals.applied + second.totals.applied == 3000

    await eventually(all_applied, "the group did not apply every record", deadline=KAFKA_DEADLINE)
    assert first.totals.applied > 0
    assert second.totals.applied > 0
    now = utc_now()
    window = TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert await service_for(store).event_count("default", "click", window) == 3000


async def test_a_consumer_resumes_from_the_store_where_it_is_ahead_of_kafka(
    store: Store, kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    topic = await produce_views(kafka_settings, 10)
    # As after a crash between the store's commit and Kafka's: the store already covers 0..5.
    await store.apply(Batch([], [SourcePosition(topic, 0, 6)]))
    ingest = await run_consumer(store)

    async def caught_up() -> bool:
        return ingest.totals.applied >= 4 and (await store.positions(topic)).get(0) == 10

    await eventually(
        caught_up, "the consumer did not reach the end of the partition", deadline=KAFKA_DEADLINE
    )
    assert (ingest.totals.applied, ingest.totals.duplicates) == (4, 0)
    page, _ = await store.events(EventQuery("default"), 10, None)
    assert sorted(e.id for e in page) == ["v6", "v7", "v8", "v9"]


async def test_a_member_joining_mid_stream_loses_nothing_and_counts_nothing_twice(
    store: Store, kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    bootstrap = kafka_settings.kafka_bootstrap_servers or ""
    topic = kafka_settings.kafka_topics[0]
    for partition in range(3):
        messages = [{"event": "view", "id": f"v{partition}-{i}"} for i in range(10_000)]
        await produce(bootstrap, topic, messages, partition=partition)
    bus = InProcessBus()
    async with bus.subscribe("default") as changes:
        first = await run_consumer(store, bus)
        await anext(changes)  # the first member has applied a batch: the stream is under way
    second = await run_consumer(store)

    async def drained() -> bool:
        # Totals move just after the store commits; wait for both, so neither races the other.
        applied = first.totals.applied + second.totals.applied
        return applied == 30_000 and sum((await store.positions(topic)).values()) == 30_000

    await eventually(drained, "the group did not apply every record exactly once", deadline=60)
    now = utc_now()
    window = TimeRange(now - timedelta(hours=1), now + timedelta(minutes=1))
    assert await service_for(store).event_count("default", "view", window) == 30_000


class FlakyStore(DuckDBStore):
    """Unavailable for its first two batches, as a store restarting would be."""

    def __init__(self) -> None:
        super().__init__()
        self.failures = 2

    async def apply(self, batch: Batch) -> ApplyResult:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("store: restarting")
        return await super().apply(batch)

    async def apply_staged(self, staged: StagedMessages, *, with_events: bool) -> StagedResult:
        if self.failures:
            self.failures -= 1
            raise StoreUnavailable("store: restarting")
        return await super().apply_staged(staged, with_events=with_events)


async def test_a_store_outage_delays_the_batch_and_loses_nothing(
    kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    topic = await produce_views(kafka_settings, 100)
    store = FlakyStore()
    ingest = await run_consumer(store)

    async def applied() -> bool:
        return ingest.totals.applied == 100

    await eventually(applied, "the batch was lost or never retried", deadline=KAFKA_DEADLINE)
    assert store.failures == 0
    assert (await store.positions(topic)) == {0: 100}


async def test_a_mongodb_outage_holds_the_batch_and_its_offsets_until_the_server_is_back(
    kafka_settings: Settings, run_consumer: RunConsumer, caplog: pytest.LogCaptureFixture
) -> None:
    client = StandInClient()
    store = MongoStore(client, "analytics")
    await client.go_down()
    topic = await produce_views(kafka_settings, 100)
    ingest = await run_consumer(store)

    async def retrying() -> bool:
        return "could not apply the batch" in caplog.text

    await eventually(retrying, "the consumer did not retry the batch", deadline=KAFKA_DEADLINE)
    assert ingest.totals.applied == 0
    assert [s.committed for s in await ingest.status() if s.topic == topic] == [None] * 3
    await client.come_back()

    async def applied() -> bool:
        return ingest.totals.applied == 100

    await eventually(applied, "the batch was lost or never retried", deadline=KAFKA_DEADLINE)
    assert (ingest.totals.applied, ingest.totals.duplicates) == (100, 0)
    assert await store.positions(topic) == {0: 100}
    assert await store.count_events(EventQuery("default")) == 100


class HeldStore(DuckDBStore):
    """Applies nothing until released, as a slow store would."""

    def __init__(self) -> None:
        super().__init__()
        self.release = asyncio.Event()

    async def apply(self, batch: Batch) -> ApplyResult:
        await self.release.wait()
        return await super().apply(batch)

    async def apply_staged(self, staged: StagedMessages, *, with_events: bool) -> StagedResult:
        await self.release.wait()
        return await super().apply_staged(staged, with_events=with_events)


def lags(metrics: Metrics) -> dict[tuple[str, str], float]:
    return {
        (sample.labels["topic"], sample.labels["partition"]): sample.value
        for family in text_string_to_metric_families(metrics.exposition().decode())
        for sample in family.samples
        if sample.name == "gql_analytics_kafka_consumer_lag"
    }


async def test_consumer_lag_per_partition_is_what_is_left_to_apply(
    kafka_settings: Settings, run_consumer: RunConsumer
) -> None:
    store = HeldStore()
    ingest = await run_consumer(store)
    metrics = Metrics()
    metrics.watch_consumer(ingest)
    topic = await produce_views(kafka_settings, 7)

    async def behind() -> bool:
        return lags(metrics).get((topic, "0")) == 7

    await eventually(behind, "the lag of 7 unapplied records was not shown", KAFKA_DEADLINE)
    others = {lag for key, lag in lags(metrics).items() if key != (topic, "0")}
    assert others <= {0}, "nothing waits in the other partitions"
    store.release.set()

    async def caught_up() -> bool:
        return lags(metrics).get((topic, "0")) == 0

    await eventually(caught_up, "the lag did not fall to 0 once applied", KAFKA_DEADLINE)
