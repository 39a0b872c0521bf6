"""An uncached question through the query engine against a hand-written DuckDB ``GROUP BY`` over
the same raw rows, side by side in one run; and, for scale, the same GROUP BY over a typed copy of the rows
(``value`` a DOUBLE column rather than a JSON property).

The data is shaped as a product's events are: ``--rows`` events (default 1,000,000) of 20 names
and 50,000 users over 30 days, each with a numeric ``value`` property, written straight into the
store's raw table. The question is the one dashboards ask most: count and average value by name
by day over the last 7 days. Both sides read the same file; the engine's side is
``AnalyticsService.aggregate`` (plan, SQL, the answer shaped for GraphQL), never cached. Reported:
the median of ``--repeats`` runs of each, alternated, and their ratio (goal: at most 3x at 1 M
rows).

    .venv/bin/python -m bench.questions [--rows 1000000] [--repeats 15]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.measures import Measure, Op
from gql_analytics.domain.query.question import Question
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 30

FILL = """
INSERT INTO events
SELECT 'default', i::VARCHAR, 'event_' || (i % 20), 'user_' || (hash(i) % 50000),
    TIMESTAMP '{start}' + to_microseconds((hash(i * 7) % {span})::BIGINT),
    TIMESTAMP '{start}', 'bench', json_object('value', (hash(i * 13) % 1000) / 10.0)
FROM range({rows}) t(i)
"""

TYPED = """
CREATE TABLE typed AS SELECT tenant, name, occurred_at,
    json_extract(properties, '$.value')::DOUBLE AS value FROM events
"""

RAW_TYPED = """
SELECT name, date_trunc('day', occurred_at) AS day, count(*), avg(value)
FROM typed
WHERE tenant = 'default' AND occurred_at >= ? AND occurred_at < ?
GROUP BY ALL
"""

RAW = """
SELECT name, date_trunc('day', occurred_at) AS day, count(*),
    avg(CASE WHEN json_type(properties, '$.value') IN ('UBIGINT', 'BIGINT', 'DOUBLE')
        THEN json_extract(properties, '$.value')::DOUBLE END)
FROM events
WHERE tenant = 'default' AND occurred_at >= ? AND occurred_at < ?
GROUP BY ALL
"""


def question() -> Question:
    return Question(
        tenant="default",
        kind=EVENT,
        measures=(Measure(Op.COUNT), Measure(Op.AVG, Field(Attribute.PROPERTY, "value"))),
        time_range=TimeRange(NOW - timedelta(days=7), NOW),
        dimensions=(Field(Attribute.NAME),),
        calendar=Calendar(Interval.DAY),
    )


async def measure(path: Path, repeats: int) -> tuple[list[float], list[float], list[float]]:
    store = DuckDBStore(str(path))
    service = AnalyticsService(store, IngestPipeline(store, InProcessBus()), clock=lambda: NOW)
    asked = question()
    window = asked.time_range
    engine, raw, typed = [], [], []
    bounds = [window.start.replace(tzinfo=None), window.end.replace(tzinfo=None)]
    try:
        for _ in range(repeats):
            started = time.perf_counter()
            answer = await service.aggregate(asked)
            engine.append(time.perf_counter() - started)
            started = time.perf_counter()
            rows = store.rows(RAW, bounds)
            raw.append(time.perf_counter() - started)
            started = time.perf_counter()
            store.rows(RAW_TYPED, bounds)
            typed.append(time.perf_counter() - started)
        assert len(answer.groups) == 20, len(answer.groups)
        assert len(rows) == 20 * 7, len(rows)
    finally:
        await store.close()
    return engine, raw, typed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=15)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "bench.duckdb"
        store = DuckDBStore(str(path))
        start = (NOW - timedelta(days=DAYS)).replace(tzinfo=None)
        span = DAYS * 24 * 3600 * 1_000_000
        store.rows(FILL.format(start=start, span=span, rows=options.rows), [])
        store.rows(TYPED, [])
        asyncio.run(store.close())
        engine, raw, typed = asyncio.run(measure(path, options.repeats))
    engine_ms, raw_ms = statistics.median(engine) * 1000, statistics.median(raw) * 1000
    typed_ms = statistics.median(typed) * 1000
    print(f"rows: {options.rows:,}; count and avg(value) by name by day, last 7 days")
    print(f"  engine (uncached): median {engine_ms:.1f} ms")
    print(f"  raw DuckDB GROUP BY: median {raw_ms:.1f} ms")
    print(f"  the same over a typed copy (value a DOUBLE column): median {typed_ms:.1f} ms")
    print(f"  ratio engine / raw: {engine_ms / raw_ms:.2f}x (goal <= 3x at 1 M rows)")
    print(f"  ratio engine / typed copy: {engine_ms / typed_ms:.2f}x")


if __name__ == "__main__":
    main()
