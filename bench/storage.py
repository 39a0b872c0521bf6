"""What metric points with a user tag cost on disk and to load, now that only declared tags split
series: the store's DuckDB file against a plain DuckDB table of the same rows; the load rate
through ``DuckDBStore.apply``; and through ``recordMetrics`` over HTTP against a served gateway.

The points are shaped as the issue's: ``--points`` (default 1,000,000) of 20 names, tags
``{"user": one of 50,000, "region": one of 5}``, a value, over 30 days. ``region`` is declared
a metric dimension first (``user`` is not), then the points go through ``DuckDBStore.apply`` in
batches of ``--batch`` (10,000: the ingest pipeline's largest group commit). Reported: series,
the store's file size after CHECKPOINT (and what each table takes), the size of a plain table
``(name, value, tags, occurred_at)`` of the same rows in a file of its own, their ratio (goal:
at most 3x), and the load rate. Then ``--http-points`` (default 200,000) points go to a
``gql-analytics serve`` process on a fresh file as ``recordMetrics`` mutations of 1,000, from
``--clients`` (4) concurrent clients (goal: at least 10,000 rows a second).

    .venv/bin/python -m bench.storage [--points 1000000] [--http-points 200000] [--clients 4]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import random
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import httpx

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.domain.records import Batch, MetricPoint
from gql_analytics.domain.rollup import METRIC
from tests.kafka.broker import free_port
from tests.support import GATEWAY, iso, serving

NOW = datetime(2026, 12, 1, tzinfo=UTC)
DAYS = 30
NAMES = tuple(f"metric_{i}" for i in range(20))
USERS = 50_000
REGIONS = ("eu-west", "eu-north", "us-east", "us-west", "ap-south")
MUTATION = 1_000

RECORD = """mutation($inputs: [MetricInput!]!) {
  recordMetrics(inputs: $inputs) { accepted errors { index message } }
}"""
DECLARE = 'mutation { declareDimensions(of: METRICS, keys: ["region"]) { key } }'

PLAIN = """
ATTACH '{store}' AS store (READ_ONLY);
CREATE TABLE points AS SELECT name, value, tags, occurred_at FROM store.metric_points;
DETACH store;
CHECKPOINT;
"""


def point_fields(count: int, seed: int) -> Iterator[tuple[str, float, dict[str, str], datetime]]:
    """``count`` points over the 30 days before NOW, in time order: name, value, tags, time."""
    rng = random.Random(seed)
    start, step = NOW - timedelta(days=DAYS), timedelta(days=DAYS) / count
    for i in range(count):
        tags = {"user": f"user_{rng.randrange(USERS)}", "region": rng.choice(REGIONS)}
        yield rng.choice(NAMES), round(rng.lognormvariate(4.8, 0.4), 3), tags, start + i * step


def file_bytes(path: Path) -> int:
    wal = path.with_name(path.name + ".wal")
    return path.stat().st_size + (wal.stat().st_size if wal.exists() else 0)


def table_bytes(path: Path) -> dict[str, int]:
    """The bytes of the blocks each table's columns (and their primary-key index: not counted
    here) take in the file."""
    with duckdb.connect(str(path), read_only=True) as connection:
        (block_size,) = connection.execute(
            "SELECT block_size FROM pragma_database_size()"
        ).fetchone() or (0,)
        tables = [
            t for (t,) in connection.execute("SELECT table_name FROM duckdb_tables()").fetchall()
        ]
        sizes = {}
        for table in tables:
            (blocks,) = connection.execute(
                f"SELECT count(DISTINCT block_id) FROM pragma_storage_info('{table}') "
                "WHERE persistent AND block_id >= 0"
            ).fetchone() or (0,)
            sizes[table] = int(blocks) * int(block_size)
    return sizes


async def load(path: Path, count: int, batch: int) -> float:
    """Seconds spent in ``apply``, the points built beforehand batch by batch."""
    store = DuckDBStore(str(path))
    await store.declare_dimensions("default", METRIC, ["region"], NOW - timedelta(days=DAYS + 1))
    fields = enumerate(point_fields(count, seed=1))
    applying = 0.0
    while chunk := list(itertools.islice(fields, batch)):
        points = [
            MetricPoint(f"p{i}", name, value, "default", at, NOW, tags)
            for i, (name, value, tags, at) in chunk
        ]
        started = time.perf_counter()
        await store.apply(Batch(points))
        applying += time.perf_counter() - started
    store.rows("CHECKPOINT", [])
    await store.close()
    return applying


def report_storage(path: Path, count: int, applying: float) -> None:
    with duckdb.connect(str(path), read_only=True) as connection:
        series = dict(connection.execute("SELECT kind, count(*) FROM series GROUP BY 1").fetchall())
    store_size = file_bytes(path)
    plain = path.with_name("plain.duckdb")
    with duckdb.connect(str(plain)) as connection:
        connection.execute(PLAIN.format(store=path))
    plain_size = file_bytes(plain)
    print(
        f"{count:,} metric points, 20 names, tags user (50,000, undeclared), region (5, declared)"
    )
    print(
        f"  series: {sum(series.values()):,} ({', '.join(f'{k} {n:,}' for k, n in sorted(series.items()))})"
    )
    print(f"  store file after CHECKPOINT: {store_size / 1e6:,.1f} MB")
    for table, size in sorted(table_bytes(path).items(), key=lambda t: -t[1]):
        if size:
            print(f"    {table}: {size / 1e6:,.1f} MB of column blocks")
    print(f"  plain table (name, value, tags, occurred_at), own file: {plain_size / 1e6:,.1f} MB")
    print(f"  ratio store / plain: {store_size / plain_size:.2f}x (goal: at most 3x)")
    print(f"  load through DuckDBStore.apply: {applying:.1f} s, {count / applying:,.0f}/s")


async def through_http(path: Path, count: int, clients: int) -> float:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [GATEWAY, "serve", "--port", str(port), "--store", f"duckdb:///{path}", "--no-auth"]
    command += ["--rate-limit", "0", "--log-level", "warning"]
    bodies: list[dict[str, Any]] = []
    fields = point_fields(count, seed=2)
    while chunk := list(itertools.islice(fields, MUTATION)):
        inputs = [
            {"name": name, "value": value, "tags": tags, "occurredAt": iso(at)}
            for name, value, tags, at in chunk
        ]
        bodies.append({"query": RECORD, "variables": {"inputs": inputs}})
    with serving(command, f"{url}/health"):
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            answer = await http.post("/graphql", json={"query": DECLARE})
            assert not answer.json().get("errors"), answer.text
            queue = list(reversed(bodies))

            async def client() -> None:
                while queue:
                    answer = await http.post("/graphql", json=queue.pop())
                    body = answer.json()
                    assert not body.get("errors"), answer.text
                    result = body["data"]["recordMetrics"]
                    assert not result["errors"], answer.text
                    assert result["accepted"] == MUTATION, answer.text

            started = time.perf_counter()
            await asyncio.gather(*(client() for _ in range(clients)))
            return time.perf_counter() - started


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--points", type=int, default=1_000_000)
    parser.add_argument("--batch", type=int, default=10_000)
    parser.add_argument("--http-points", type=int, default=200_000)
    parser.add_argument("--clients", type=int, default=4)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        if args.points:
            path = Path(folder, "store.duckdb")
            applying = await load(path, args.points, args.batch)
            report_storage(path, args.points, applying)
        if args.http_points:
            elapsed = await through_http(
                Path(folder, "http.duckdb"), args.http_points, args.clients
            )
            print(
                f"recordMetrics over HTTP, {args.http_points:,} points in mutations of {MUTATION:,}, "
                f"{args.clients} clients: {elapsed:.1f} s, {args.http_points / elapsed:,.0f}/s "
                "(goal: at least 10,000/s)"
            )
    sys.stdout.flush()


if __name__ == "__main__":
    asyncio.run(main())
