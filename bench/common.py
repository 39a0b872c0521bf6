"""Shared by the benchmarks: a realistic long-tailed latency workload and a median timer."""

from __future__ import annotations

import math
import random
import statistics
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta

from gql_analytics.domain.records import MetricPoint

END = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 30
ENDPOINTS = ("/api/tasks", "/api/users", "/api/search", "/api/checkout")
REGIONS = ("eu-west", "us-east", "ap-south")


def latency_points(count: int, batch: int, seed: int = 1) -> Iterator[list[MetricPoint]]:
    """``count`` points over the 30 days before END, in time order, as batches of ``batch``."""
    rng = random.Random(seed)
    start = END - timedelta(days=DAYS)
    step = timedelta(days=DAYS) / count
    for first in range(0, count, batch):
        points = []
        for i in range(first, min(first + batch, count)):
            slow = rng.random() < 0.02
            value = rng.lognormvariate(math.log(120), 0.35) * (rng.uniform(5, 20) if slow else 1)
            points.append(
                MetricPoint(
                    id=f"p{i}",
                    name="api_response_time",
                    value=value,
                    tenant="default",
                    occurred_at=start + i * step,
                    received_at=END,
                    tags={"endpoint": ENDPOINTS[i % 4], "region": REGIONS[i % 3]},
                )
            )
        yield points


async def median_seconds(work: Callable[[], Awaitable[object]], repeats: int = 5) -> float:
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        await work()
        timings.append(time.perf_counter() - started)
    return statistics.median(timings)
