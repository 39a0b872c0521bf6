"""Ingest rate: events through the whole in-process pipeline into a DuckDB file.

Four concurrent producers call the service's ``track`` with batches of 1000 events (what a
``trackEvents`` mutation does after GraphQL parsing): validation, group commit, one transaction
per group, live-bus publication. Beside it, the same records applied straight to the store
(no validation, no pipeline) in batches of the same size, as the reference. Prints records per
second for both and the ratio.

    .venv/bin/python bench/ingest.py [--records 200000]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.drafts import EventDraft
from gql_analytics.domain.normalize import Origin
from gql_analytics.domain.records import Batch, Event
from gql_analytics.domain.validation import Limits
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline

NOW = datetime(2026, 11, 1, tzinfo=UTC)
NAMES = ("page_view", "login", "search", "button_click", "purchase", "task_created")
PRODUCERS = 4
BATCH = 1000


def drafts(count: int, seed: int) -> list[EventDraft]:
    rng = random.Random(seed)
    step = timedelta(days=7) / count
    start = NOW - timedelta(days=7)
    return [
        EventDraft(
            name=(name := rng.choice(NAMES)),
            user_id=f"user-{rng.randrange(5000)}",
            occurred_at=start + i * step,
            properties={"task_id": f"t{i}"} if name == "task_created" else {"plan": "pro"},
        )
        for i in range(count)
    ]


async def through_pipeline(items: list[EventDraft], path: Path) -> float:
    store = DuckDBStore(str(path))
    bus = InProcessBus()
    pipeline = IngestPipeline(store, bus)
    service = AnalyticsService(store, pipeline, clock=lambda: NOW)
    await pipeline.start()
    batches = [items[i : i + BATCH] for i in range(0, len(items), BATCH)]
    queue: asyncio.Queue[list[EventDraft]] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def producer() -> None:
        while not queue.empty():
            outcome = await service.track("default", queue.get_nowait())
            assert not outcome.errors

    started = time.perf_counter()
    await asyncio.gather(*(producer() for _ in range(PRODUCERS)))
    elapsed = time.perf_counter() - started
    await pipeline.stop()
    await store.close()
    return len(items) / elapsed


async def straight_to_store(items: list[EventDraft], path: Path) -> float:
    origin = Origin("default", Limits(NOW))
    records = [draft.build(origin) for draft in items]
    store = DuckDBStore(str(path))
    started = time.perf_counter()
    for i in range(0, len(records), BATCH):
        await store.apply(Batch(records[i : i + BATCH]))
    elapsed = time.perf_counter() - started
    await store.close()
    assert all(isinstance(r, Event) for r in records)
    return len(records) / elapsed


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    count = parser.parse_args().records
    items = drafts(count, seed=1)
    with tempfile.TemporaryDirectory() as directory:
        reference = await straight_to_store(items, Path(directory) / "reference.duckdb")
        pipeline = await through_pipeline(items, Path(directory) / "pipeline.duckdb")
    print(
        f"{count:,} events  pipeline {pipeline:,.0f}/s  store.apply alone {reference:,.0f}/s  "
        f"ratio {pipeline / reference:.2f}"
    )


if __name__ == "__main__":
    asyncio.run(main())
