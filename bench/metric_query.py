"""The `metric` query over rollups against the same aggregate from a raw scan, side by side.

For 1M and 10M long-tailed latency points over 30 days, both paths compute count, avg and p95
per hour over the 30 days: the service's rollup path (what the GraphQL resolver calls, with every
percentile of every bucket read off its histogram) and a DuckDB SQL scan of the raw points (exact
``quantile_disc``, the rank the sketch approximates). Prints medians of 5 runs, the ratio, and the
largest relative p95 difference between the two. Goal: rollup <= 0.5x raw at 10M points.

    .venv/bin/python bench/metric_query.py [--sizes 1000000 10000000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import DAYS, END, latency_points, median_seconds
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.records import Batch
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline

RAW_SCAN = """
SELECT time_bucket(INTERVAL 1 HOUR, occurred_at) AS bucket, count(*), avg(value),
       quantile_disc(value, 0.95)
FROM metric_points
WHERE tenant = 'default' AND name = 'api_response_time' AND occurred_at >= ? AND occurred_at < ?
GROUP BY bucket ORDER BY bucket
"""


async def run(size: int, directory: Path) -> None:
    store = DuckDBStore(str(directory / f"bench-{size}.duckdb"))
    started = time.perf_counter()
    for batch in latency_points(size, batch=50_000):
        await store.apply(Batch(batch))
    loaded = time.perf_counter() - started
    service = AnalyticsService(store, IngestPipeline(store, InProcessBus()), clock=lambda: END)
    window = TimeRange(END - timedelta(days=DAYS), END)
    bounds = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]

    async def rollup_path() -> object:
        # What the resolver does: read merged buckets, then read quantiles off each histogram.
        result = await service.metric("default", "api_response_time", window, Interval.HOUR)
        return [(s.p50, s.p90, s.p95, s.p99) for _, s in result.points], result.overall.p95

    async def raw_path() -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(store.rows, RAW_SCAN, bounds)

    await rollup_path()
    await raw_path()
    rollup_time = await median_seconds(rollup_path)
    raw_time = await median_seconds(raw_path)

    result = await service.metric("default", "api_response_time", window, Interval.HOUR)
    exact = {
        bucket.replace(tzinfo=window.start.tzinfo): (n, p95)
        for bucket, n, _, p95 in await raw_path()
    }
    worst = 0.0
    for bucket, stats in result.points:
        n, p95 = exact[bucket]
        assert stats.count == n, (bucket, stats.count, n)
        estimate = stats.p95
        assert estimate is not None
        worst = max(worst, abs(estimate - p95) / p95)
    print(
        f"{size:>11,} points  loaded in {loaded:6.1f}s ({size / loaded:,.0f}/s)  "
        f"rollup {rollup_time * 1000:8.1f} ms  raw scan {raw_time * 1000:8.1f} ms  "
        f"ratio {rollup_time / raw_time:5.3f}  hourly buckets {len(result.points)}  "
        f"max p95 difference {worst:.2%}"
    )
    await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    sizes = parser.parse_args().sizes
    with tempfile.TemporaryDirectory() as directory:
        for size in sizes:
            await run(size, Path(directory))


if __name__ == "__main__":
    asyncio.run(main())
