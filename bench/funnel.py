"""The store's funnel against a hand-written DuckDB SQL funnel of the same steps, side by side.

Loads 1,000,000 events (20 names, 50,000 users, spread uniformly over 30 days) straight into a
DuckDB file with one ``INSERT ... SELECT`` (funnels read raw events only, so no rollups are
built), then times, 7 times each (median): ``DuckDBStore.funnel`` for a 3-step funnel with a
7-day window (what the ``funnel`` resolver's service call runs), and the SQL one would write by
hand for the same steps (literal names and bounds, a join and a ``min`` per step, the same
counts and nearest-rank median and p95). Checks both give the same answer, and prints the ratio.
Goal: store <= 1.5x hand-written. Also times a weekly retention table over the 30 days.

    .venv/bin/python -m bench.funnel [--events 1000000] [--users 50000]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.common import DAYS, END, median_seconds
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.timerange import Interval, TimeRange

NAMES = 20
STEPS = ("event_03", "event_07", "event_11")
WINDOW = timedelta(days=7)
START = END - timedelta(days=DAYS)

LOAD = """
SELECT setseed(0.42);
INSERT INTO events
SELECT 'default', 'e' || i, 'event_' || lpad((floor(random() * {names}))::INT::VARCHAR, 2, '0'),
       'user_' || (floor(random() * {users}))::INT,
       TIMESTAMP '{start}' + to_microseconds((random() * {days} * 86400e6)::BIGINT),
       TIMESTAMP '{end}', 'web', '{{"plan": "pro"}}'
FROM range({events}) t(i)
"""

HAND_WRITTEN = """
WITH e AS (
    SELECT user_id, occurred_at AS t, name FROM events
    WHERE tenant = 'default' AND occurred_at >= TIMESTAMP '{start}'
      AND occurred_at < TIMESTAMP '{end}' AND user_id IS NOT NULL
      AND name IN ('{a}', '{b}', '{c}')
),
s1 AS (SELECT user_id, min(t) AS t1 FROM e WHERE name = '{a}' GROUP BY user_id),
s2 AS (
    SELECT s1.user_id, s1.t1, min(e.t) AS t2 FROM s1 JOIN e
    ON e.user_id = s1.user_id AND e.name = '{b}' AND e.t > s1.t1
       AND e.t <= s1.t1 + INTERVAL {days} DAY
    GROUP BY s1.user_id, s1.t1
),
s3 AS (
    SELECT s2.user_id, s2.t1, min(e.t) AS t3 FROM s2 JOIN e
    ON e.user_id = s2.user_id AND e.name = '{c}' AND e.t > s2.t2
       AND e.t <= s2.t1 + INTERVAL {days} DAY
    GROUP BY s2.user_id, s2.t1
)
SELECT 1, count(*), 0, 0 FROM s1
UNION ALL
SELECT 2, count(*), quantile_disc(epoch_us(t2) - epoch_us(t1), 0.5),
       quantile_disc(epoch_us(t2) - epoch_us(t1), 0.95) FROM s2
UNION ALL
SELECT 3, count(*), quantile_disc(epoch_us(t3) - epoch_us(t1), 0.5),
       quantile_disc(epoch_us(t3) - epoch_us(t1), 0.95) FROM s3
ORDER BY 1
"""


def naive_text(moment: Any) -> str:
    return str(moment.replace(tzinfo=None))


async def run(events: int, users: int, directory: Path) -> None:
    store = DuckDBStore(str(directory / "funnel.duckdb"))
    started = time.perf_counter()
    store.rows(
        LOAD.format(
            names=NAMES,
            users=users,
            days=DAYS,
            events=events,
            start=naive_text(START),
            end=naive_text(END),
        ),
        [],
    )
    loaded = time.perf_counter() - started
    window = TimeRange(START, END)
    question = FunnelQuestion(
        "default", window, tuple(Step(name) for name in STEPS), WINDOW
    ).check()
    hand_written = HAND_WRITTEN.format(
        start=naive_text(START),
        end=naive_text(END),
        a=STEPS[0],
        b=STEPS[1],
        c=STEPS[2],
        days=WINDOW.days,
    )

    async def store_path() -> object:
        return await store.funnel(question)

    async def hand_path() -> list[tuple[Any, ...]]:
        return await asyncio.to_thread(store.rows, hand_written, [])

    funnel = await store.funnel(question)
    expected = await hand_path()
    found = [(s.users, s.median_seconds, s.p95_seconds) for s in funnel.steps]
    wanted = [(n, median / 1e6, p95 / 1e6) for _, n, median, p95 in expected]
    wanted[0] = (wanted[0][0], 0.0, 0.0)
    assert found == wanted, (found, wanted)

    store_time = await median_seconds(store_path, repeats=7)
    hand_time = await median_seconds(hand_path, repeats=7)
    store_again = await median_seconds(store_path, repeats=7)  # the machine is noisy: both orders

    retention = RetentionQuestion(
        "default", window, Step(STEPS[0]), Step(STEPS[1]), Calendar(Interval.WEEK), 5
    ).check()

    async def retention_path() -> object:
        return await store.cohort_retention(retention)

    retention_time = await median_seconds(retention_path, repeats=7)
    store_median = (store_time + store_again) / 2
    print(
        f"{events:,} events, {users:,} users, {NAMES} names over {DAYS} days "
        f"(loaded in {loaded:.1f} s); 3-step funnel, {WINDOW.days}-day window: "
        f"users per step {[s.users for s in funnel.steps]}"
    )
    print(
        f"store funnel {store_time * 1000:7.1f} ms / {store_again * 1000:7.1f} ms  "
        f"hand-written SQL {hand_time * 1000:7.1f} ms  ratio {store_median / hand_time:5.2f}  "
        f"weekly retention (5 periods) {retention_time * 1000:7.1f} ms"
    )
    await store.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--users", type=int, default=50_000)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        await run(arguments.events, arguments.users, Path(directory))


if __name__ == "__main__":
    asyncio.run(main())
