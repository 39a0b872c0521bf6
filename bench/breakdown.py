"""A breakdown by a declared dimension, read from the rollups by the planner, against a
hand-written DuckDB ``GROUP BY`` over the raw events of the same file, side by side in one run.

The data is shaped as ``bench.questions``'s: ``--rows`` events (default 10,000,000) of 20 names
and 50,000 users over 30 days, each with a ``plan`` property (one of 5) and a numeric ``value``.
``plan`` is declared an event dimension 31 days before the end, before anything is written.
The rows are made in SQL, as ``bench.questions`` makes them, a chunk of ``--chunk`` at a time,
into a table of the store's scratch database with the columns its Kafka staging query gives
(``messages/sql/stage.sql``); each chunk is then written by ``DuckDBStore.apply_staged``, the
Kafka path's apply: the raw rows inserted, rolled up by the declared dimensions into series,
minute and hour rollups and user presence, in one transaction. (Through ``DuckDBStore.apply``,
records built in Python, the same rows would take far longer: ``--apply-rows`` times that path
on a sample of its own.)

The question: count of events by ``plan`` over the last 7 days, through
``AnalyticsService.aggregate`` (never cached; the planner must choose the rollups), against
``SELECT json_extract_string(properties, '$.plan'), count(*) ... GROUP BY 1`` over the raw
events; the answers are checked equal. Reported: medians of ``--repeats`` alternated runs and
their ratio (goal: at most 0.5x at 10 M events).

    .venv/bin/python -m bench.breakdown [--rows 10000000] [--repeats 9] [--apply-rows 0]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gql_analytics.adapters.duckdb.messages.stage import Staged
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.measures import Measure, Op
from gql_analytics.domain.query.question import Question
from gql_analytics.domain.records import Batch, Event
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.domain.validation import Limits
from gql_analytics.ports import MessageBatch, StagedMessages
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline
from gql_analytics.services.planner import ROLLUPS

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 30
PLANS = ("free", "starter", "pro", "team", "enterprise")
USERS = 50_000

# The columns ``stage.sql`` gives a staged batch, every row a plain, valid event.
STAGE = """
CREATE TABLE {table} AS
SELECT (i - {first})::INTEGER AS seq, 'event' AS kind, 'default' AS tenant, i::VARCHAR AS id,
    'event_' || (i % 20) AS name, 'user_' || (hash(i) % {users}) AS user_id,
    TIMESTAMP '{start}' + to_microseconds((hash(i * 7) % {span})::BIGINT) AS occurred_at,
    'bench' AS source,
    json_object('plan', {plans}[(1 + hash(i * 31) % 5)::BIGINT], 'value', (hash(i * 13) % 1000) / 10.0)
        AS properties,
    NULL::DOUBLE AS value, '{{}}'::JSON AS tags, NULL::INTEGER AS bin, true AS ok
FROM range({first}, {end}) t(i)
"""

RAW = """
SELECT json_extract_string(properties, '$.plan') AS plan, count(*)
FROM events
WHERE tenant = 'default' AND occurred_at >= ? AND occurred_at < ?
GROUP BY 1
"""


def question() -> Question:
    return Question(
        tenant="default",
        kind=EVENT,
        measures=(Measure(Op.COUNT),),
        time_range=TimeRange(NOW - timedelta(days=7), NOW),
        dimensions=(Field(Attribute.PROPERTY, "plan"),),
    )


async def load(store: DuckDBStore, rows: int, chunk: int) -> tuple[float, float]:
    """Seconds staging the rows in SQL, and seconds applying them (``apply_staged``)."""
    start = (NOW - timedelta(days=DAYS)).replace(tzinfo=None)
    span = DAYS * 24 * 3600 * 1_000_000
    plans = "[" + ", ".join(f"'{p}'" for p in PLANS) + "]"
    staging = applying = 0.0
    names = [("default", "event", f"event_{n}", "{}") for n in range(20)]
    for number, first in enumerate(range(0, rows, chunk)):
        end = min(first + chunk, rows)
        table = f"scratch.bench_{number}"
        started = time.perf_counter()
        statement = STAGE.format(
            table=table, first=first, end=end, users=USERS, start=start, span=span, plans=plans
        )
        store.rows(statement, [])
        staged = StagedMessages(
            MessageBatch(()), Limits(NOW), (), Staged(table, end - first, False, names)
        )
        staging += time.perf_counter() - started
        started = time.perf_counter()
        result = await store.apply_staged(staged, with_events=False)
        applying += time.perf_counter() - started
        assert result.applied == end - first, result
        store.rows(f"DROP TABLE {table}", [])
    return staging, applying


async def through_apply(path: Path, rows: int, batch: int = 10_000) -> float:
    """Seconds ``DuckDBStore.apply`` takes for ``rows`` such events, built beforehand batch
    by batch, ``plan`` declared."""
    store = DuckDBStore(str(path))
    await store.declare_dimensions("default", EVENT, ["plan"], NOW - timedelta(days=DAYS + 1))
    rng = random.Random(1)
    start, step = NOW - timedelta(days=DAYS), timedelta(days=DAYS) / rows
    numbered = iter(range(rows))
    applying = 0.0
    while chunk := list(itertools.islice(numbered, batch)):
        events = [
            Event(
                f"e{i}",
                f"event_{rng.randrange(20)}",
                "default",
                start + i * step,
                NOW,
                f"user_{rng.randrange(USERS)}",
                "bench",
                {"plan": rng.choice(PLANS), "value": rng.randrange(1000) / 10},
            )
            for i in chunk
        ]
        started = time.perf_counter()
        await store.apply(Batch(events))
        applying += time.perf_counter() - started
    await store.close()
    return applying


async def measure(store: DuckDBStore, repeats: int) -> tuple[list[float], list[float]]:
    service = AnalyticsService(store, IngestPipeline(store, InProcessBus()), clock=lambda: NOW)
    asked = question()
    bounds = [
        asked.time_range.start.replace(tzinfo=None),
        asked.time_range.end.replace(tzinfo=None),
    ]
    engine, raw = [], []
    for _ in range(repeats):
        started = time.perf_counter()
        answer = await service.aggregate(asked)
        engine.append(time.perf_counter() - started)
        started = time.perf_counter()
        rows = store.rows(RAW, bounds)
        raw.append(time.perf_counter() - started)
    assert answer.plan["source"] == ROLLUPS, answer.plan
    from_rollups = {g.key[0]: g.values[0] for g in answer.groups}
    assert from_rollups == {plan: float(n) for plan, n in rows}, (from_rollups, rows)
    print(f"  plan: {answer.plan}")
    return engine, raw


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--chunk", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=9)
    parser.add_argument("--apply-rows", type=int, default=0)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.apply_rows:
            seconds = await through_apply(Path(folder, "apply.duckdb"), args.apply_rows)
            print(
                f"{args.apply_rows:,} events through DuckDBStore.apply in batches of 10,000: "
                f"{seconds:.1f} s, {args.apply_rows / seconds:,.0f}/s"
            )
        if not args.rows:
            return
        store = DuckDBStore(str(Path(folder, "bench.duckdb")))
        await store.declare_dimensions("default", EVENT, ["plan"], NOW - timedelta(days=DAYS + 1))
        staging, applying = await load(store, args.rows, args.chunk)
        print(
            f"{args.rows:,} events staged in SQL in {staging:.1f} s, applied by apply_staged in "
            f"{applying:.1f} s ({args.rows / applying:,.0f}/s)"
        )
        try:
            engine, raw = await measure(store, args.repeats)
        finally:
            await store.close()
    engine_ms, raw_ms = statistics.median(engine) * 1000, statistics.median(raw) * 1000
    print(f"count by plan (declared), last 7 days, {args.rows:,} events over 30 days")
    print(f"  engine (rollups, uncached): median {engine_ms:.1f} ms")
    print(
        f"  raw DuckDB GROUP BY json_extract_string(properties, '$.plan'): median {raw_ms:.1f} ms"
    )
    print(f"  ratio engine / raw: {engine_ms / raw_ms:.3f}x (goal: at most 0.5x at 10 M events)")


if __name__ == "__main__":
    asyncio.run(main())
