"""``gql-analytics produce``: realistic live traffic to a Kafka topic, in the upstream shapes.

event      {"event_name", "user_id", "properties", "timestamp"}
metric     {"metric_name": "api_response_time", "value", "tags", "timestamp"}
task       {"event": "task_created" | "task_completed", "user_id", "task_id", ...}: tasks are
           created, and most complete a little later
seed-task  {"eventType": "task_created", "source", "occurredAt", "payload"}: open tasks only
"""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time
from collections import deque
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaProducer

from gql_analytics.commands.demo import ENDPOINTS, EVENT_WEIGHTS, REGIONS, latency_ms

SHAPES = ("event", "metric", "task", "seed-task")


def messages(shape: str, rng: random.Random, users: int = 200) -> Iterator[dict[str, Any]]:
    """An endless stream of messages of one shape, stamped with the time they are made."""

    def now() -> str:
        return datetime.now(UTC).isoformat()

    def user() -> str:
        return f"user-{rng.randrange(users):04d}"

    names, weights = list(EVENT_WEIGHTS), list(EVENT_WEIGHTS.values())
    open_tasks: deque[tuple[str, str]] = deque()
    for n in itertools.count():
        if shape == "event":
            yield {
                "event_name": rng.choices(names, weights)[0],
                "user_id": user(),
                "properties": {"plan": rng.choice(("free", "pro", "team"))},
                "timestamp": now(),
            }
        elif shape == "metric":
            yield {
                "metric_name": "api_response_time",
                "value": round(latency_ms(rng), 2),
                "tags": {"endpoint": rng.choice(ENDPOINTS), "region": rng.choice(REGIONS)},
                "timestamp": now(),
            }
        elif shape == "task":
            if open_tasks and rng.random() < 0.45:
                task, owner = open_tasks.popleft()
                yield {
                    "event": "task_completed",
                    "user_id": owner,
                    "task_id": task,
                    "timestamp": now(),
                }
            else:
                task, owner = f"task-{rng.getrandbits(48):012x}", user()
                open_tasks.append((task, owner))
                yield {
                    "event": "task_created",
                    "user_id": owner,
                    "task_id": task,
                    "timestamp": now(),
                }
        else:
            yield {
                "eventType": "task_created",
                "source": "seed",
                "occurredAt": now(),
                "payload": {"taskId": f"seed-{n}-{rng.getrandbits(32):08x}", "userId": user()},
            }


async def produce(
    bootstrap: str, topic: str, shape: str, count: int, rate: float, seed: int
) -> int:
    """Send ``count`` messages at ``rate`` per second (0: as fast as the broker takes them)."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    started = time.monotonic()
    try:
        pending = []
        for n, message in enumerate(itertools.islice(messages(shape, random.Random(seed)), count)):
            if rate > 0:
                await asyncio.sleep(max(0.0, started + n / rate - time.monotonic()))
            pending.append(await producer.send(topic, json.dumps(message).encode()))
        for delivery in pending:
            await delivery
    finally:
        await producer.stop()
    return count
