"""Events per second from Kafka into the store, against aiokafka alone consuming and JSON-decoding
the same topic, in one run on one broker (Tansu on loopback, as in the tests).

Both read the same N messages (3 partitions) as members of their own consumer group; each clock
starts at its first fetched (gateway: applied) batch, so the group join is left out of both, and
stops when the last message is decoded (gateway: applied). The two alternate for
``--rounds`` rounds (fresh groups and a fresh store each time); medians are reported.

    .venv/bin/python -m bench.kafka_ingest [--records 300000] [--rounds 5]

The gateway works as a pipeline (one batch fetched, some prepared, one applied), so the first
batches only fill it: the default of 300,000 records (15 batches) measures it running full.

``--shape metrics`` produces metric points instead, shaped as ``bench.storage``'s (20 names,
tags ``{"user": one of 50,000, "region": one of 5}``, a value, 30 days in time order), with
``region`` declared a dimension of each fresh store before it consumes (``user`` is not).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import random
import statistics
import tempfile
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

from aiokafka import AIOKafkaConsumer

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import kafka_consumer
from gql_analytics.domain.rollup import METRIC
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.kafka.broker import create_topics, produce, tansu

TOPIC = "bench.events"


async def raw_rate(bootstrap: str, count: int, group: str) -> float:
    consumer = AIOKafkaConsumer(
        TOPIC, bootstrap_servers=bootstrap, group_id=group, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen, started = 0, 0.0
    try:
        while seen < count:
            batch = await consumer.getmany(timeout_ms=500, max_records=5000)
            if batch and not started:
                started = time.perf_counter()
            for messages in batch.values():
                for message in messages:
                    json.loads(message.value)
                    seen += 1
    finally:
        await consumer.stop()
    return count / (time.perf_counter() - started)


async def gateway_rate(
    bootstrap: str, count: int, directory: Path, group: str, shape: str
) -> float:
    settings = Settings(
        kafka_bootstrap_servers=bootstrap, kafka_topics=(TOPIC,), kafka_group_id=group
    )
    store = DuckDBStore(str(directory / f"{group}.duckdb"))
    if shape == "metrics":
        await store.declare_dimensions(
            "default", METRIC, ["region"], utc_now() - timedelta(days=31)
        )
    bus = InProcessBus()
    ingest = kafka_consumer(settings, store, bus, clock=utc_now, stop_at_end=True)
    async with bus.subscribe("default") as changes:
        running = asyncio.create_task(ingest.run(asyncio.Event()))
        await anext(changes)  # the first batch is applied
        started, first = time.perf_counter(), ingest.totals.applied
        while ingest.totals.applied < count:  # each applied batch publishes a change
            await anext(changes)
        elapsed = time.perf_counter() - started
    await running  # the consumer notices the end of the topic (an empty fetch), commits, leaves
    assert ingest.totals.applied == count, ingest.totals
    if shape == "metrics":  # split by the declared region only: no series per user
        tags = {key for s in await store.series("default", METRIC) for key, _ in s.key.tags}
        assert tags == {"region"}, tags
    await store.close()
    return (count - first) / elapsed


def events(rng: random.Random, ids: range) -> Iterator[dict[str, Any]]:
    for i in ids:
        yield {
            "event": rng.choice(["view", "click", "search", "purchase"]),
            "id": f"e{i}",
            "user_id": f"u{rng.randrange(5000)}",
            "properties": {"plan": "pro"},
        }


def metric_points(rng: random.Random, ids: range) -> Iterator[dict[str, Any]]:
    """Over the 30 days before now, in time order (as a topic holds them), ``ids.stop`` in all."""
    start = utc_now() - timedelta(days=30)
    step = timedelta(days=30) / ids.stop
    for i in ids:
        yield {
            "metric_name": f"metric_{rng.randrange(20)}",
            "id": f"m{i}",
            "value": round(rng.lognormvariate(4.8, 0.4), 3),
            "tags": {"user": f"user_{rng.randrange(50_000)}", "region": rng.choice(REGIONS)},
            "timestamp": (start + i * step).isoformat(),
        }


REGIONS = ("eu-west", "eu-north", "us-east", "us-west", "ap-south")
SHAPES = {"events": events, "metrics": metric_points}


async def publish(bootstrap: str, count: int, shape: str) -> None:
    """Produce the records, keeping none of them: a heap of N dicts left alive would slow every
    garbage collection of both measured consumers."""
    rng = random.Random(3)
    for partition in range(3):
        records = SHAPES[shape](rng, range(partition, count, 3))
        await produce(bootstrap, TOPIC, records, partition=partition)
    gc.collect()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=300_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--shape", choices=sorted(SHAPES), default="events")
    args = parser.parse_args()
    count = args.records
    with tansu() as bootstrap, tempfile.TemporaryDirectory() as directory:
        await create_topics(bootstrap, [TOPIC])
        await publish(bootstrap, count, args.shape)
        raws, gateways = [], []
        for round in range(args.rounds):
            raws.append(await raw_rate(bootstrap, count, f"bench-raw-{round}"))
            gateways.append(
                await gateway_rate(
                    bootstrap, count, Path(directory), f"bench-gw-{round}", args.shape
                )
            )
            print(
                f"round {round + 1}: gateway {gateways[-1]:,.0f}/s  "
                f"aiokafka+json {raws[-1]:,.0f}/s  ratio {gateways[-1] / raws[-1]:.3f}"
            )
    raw, gateway = statistics.median(raws), statistics.median(gateways)
    ratio = statistics.median(g / r for g, r in zip(gateways, raws, strict=True))
    print(
        f"{count:,} {args.shape}, medians of {args.rounds} rounds: gateway {gateway:,.0f}/s  "
        f"aiokafka+json alone {raw:,.0f}/s  ratio of the medians {gateway / raw:.3f}  "
        f"median of the rounds' ratios {ratio:.3f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
