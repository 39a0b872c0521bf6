"""Analysis jobs: k-means end to end through GraphQL against scikit-learn alone, and a job over
a million rows against the server's other answers.

1. k-means, k = 8, on 100,000 users x 8 features (the ``events`` dataset: events, active days
   and six event counts per user, from about 900,000 stored events): ``runAnalysis(wait: true)``
   over HTTP (dataset read from DuckDB, preflight, worker process, result stored and returned as
   JSON) against ``KMeans(n_clusters=8, random_state=0).fit(X)`` on the same array, built by the
   gateway's own dataset code. Medians of alternating rounds, and the ratio (goal: at most 1.2).
2. A CLUSTERING job over 1,000,000 tasks (the ``tasks`` dataset), with /health and a topEvents
   query sent one after the other while it runs: their latencies against the same requests with
   no job running.

    .venv/bin/python -m bench.analysis [--users 100000] [--tasks 1000000] [--rounds 5]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from sklearn.cluster import KMeans

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.bootstrap import create_app
from gql_analytics.domain.records import Batch, Event
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.services.analysis.datasets import EventsDataset, load
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline
from gql_analytics.settings import Settings
from tests.support import ServerThread

NOW = datetime.now(UTC).replace(microsecond=0)
START = NOW - timedelta(days=28)
NAMES = ("page_view", "login", "search", "button_click", "purchase", "share")
# Four kinds of user, by mean events of each name over the four weeks.
KINDS = (
    (6, 2, 1, 3, 0.2, 0.1),
    (2, 1, 4, 1, 0.1, 0.0),
    (1, 1, 0.5, 0.5, 1.5, 0.5),
    (0.5, 0.5, 0, 0, 0, 0),
)
COLUMNS = ["events", "active_days", *NAMES]
RUN = """
mutation($input: AnalysisInput!) {
  runAnalysis(input: $input, wait: true) { state error result }
}"""
BATCH = 50_000


def user_events(users: int, rng: random.Random) -> list[Event]:
    events: list[Event] = []
    for user in range(users):
        rates = KINDS[user % len(KINDS)]
        for name, rate in zip(NAMES, rates, strict=True):
            at_least = 1 if name == "page_view" else 0  # every user appears
            for _ in range(max(at_least, _poisson(rate, rng))):
                at = START + timedelta(seconds=rng.randrange(28 * 86_400))
                events.append(Event(f"e{len(events)}", name, "default", at, at, f"u{user:06d}"))
    return events


def _poisson(rate: float, rng: random.Random) -> int:
    count, threshold, product = 0, pow(2.718281828459045, -rate), rng.random()
    while product > threshold:
        count += 1
        product *= rng.random()
    return count


def task_events(tasks: int, rng: random.Random) -> list[Event]:
    events: list[Event] = []
    for task in range(tasks):
        user = f"w{task % 5_000:04d}"
        created = START + timedelta(seconds=rng.randrange(27 * 86_400))
        props = {"task_id": f"t{task}"}
        events.append(
            Event(f"c{task}", "task_created", "default", created, created, user, None, props)
        )
        if task % 2:
            done = created + timedelta(seconds=rng.expovariate(1 / 3_600))
            events.append(
                Event(f"d{task}", "task_completed", "default", done, done, user, None, props)
            )
    return events


async def fill(store: DuckDBStore, events: list[Event]) -> None:
    for first in range(0, len(events), BATCH):
        await store.apply(Batch(events[first : first + BATCH]))


async def post(http: httpx.AsyncClient, query: str, variables: dict[str, Any]) -> dict[str, Any]:
    response = await http.post("/graphql", json={"query": query, "variables": variables})
    body: dict[str, Any] = response.json()
    if "errors" in body:
        raise RuntimeError(body["errors"])
    return body


async def kmeans_ratio(path: Path, users: int, rounds: int) -> None:
    print(f"storing the events of {users:,} users ...", flush=True)
    store = DuckDBStore(str(path))
    events = user_events(users, random.Random(1))
    await fill(store, events)
    print(f"  {len(events):,} events stored")
    del events
    analytics = AnalyticsService(store, IngestPipeline(store, InProcessBus()))
    window = TimeRange(START - timedelta(days=1), NOW + timedelta(days=1))
    started = time.perf_counter()
    frame = await load(
        EventsDataset(window), tenant="default", store=store, analytics=analytics, limit=10**7
    )
    loading = time.perf_counter() - started
    x = frame[COLUMNS].to_numpy(dtype=float)
    await store.close()
    print(f"  dataset: {x.shape[0]:,} rows x {x.shape[1]} columns, read in {loading:.3f} s")

    settings = Settings(auth=False, store_url=f"duckdb:///{path}")
    store = DuckDBStore(str(path))
    variables = {
        "input": {
            "operation": "CLUSTERING",
            "k": 8,
            "seed": 0,
            "columns": COLUMNS,
            "dataset": {"events": {"from": window.start.isoformat(), "to": window.end.isoformat()}},
        }
    }
    direct: list[float] = []
    through: list[float] = []
    with ServerThread(create_app(settings, store=store)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=300) as http:
            await post(http, RUN, variables)  # starts the workers
            for _ in range(rounds):
                started = time.perf_counter()
                model = KMeans(n_clusters=8, random_state=0).fit(x)
                direct.append(time.perf_counter() - started)
                started = time.perf_counter()
                body = await post(http, RUN, variables)
                through.append(time.perf_counter() - started)
                result = body["data"]["runAnalysis"]["result"]
                assert abs(result["inertia"] - model.inertia_) <= 1e-6 * model.inertia_
    ratios = [t / d for t, d in zip(through, direct, strict=True)]
    print(
        f"k-means k=8 on {x.shape[0]:,} x {x.shape[1]}: scikit-learn alone "
        f"{statistics.median(direct):.3f} s (median of {rounds}), through GraphQL "
        f"{statistics.median(through):.3f} s; ratio of medians "
        f"{statistics.median(through) / statistics.median(direct):.2f}, median of ratios "
        f"{statistics.median(ratios):.2f} (goal <= 1.2)"
    )


async def timed(http: httpx.AsyncClient, path: str, body: dict[str, Any] | None) -> float:
    started = time.perf_counter()
    if body is None:
        response = await http.get(path)
    else:
        response = await http.post(path, json=body)
    response.raise_for_status()
    return time.perf_counter() - started


async def latencies(
    http: httpx.AsyncClient, until: asyncio.Task[Any] | None, count: int
) -> dict[str, list[float]]:
    query = {"query": '{ topEvents(range: {last: "30d"}) { name count } }'}
    seen: dict[str, list[float]] = {"health": [], "query": []}
    while (until is None and len(seen["health"]) < count) or (
        until is not None and not until.done()
    ):
        seen["health"].append(await timed(http, "/health", None))
        seen["query"].append(await timed(http, "/graphql", query))
    return seen


async def big_jobs(path: Path, tasks: int) -> None:
    print(f"storing {tasks:,} tasks ...", flush=True)
    store = DuckDBStore(str(path))
    await fill(store, task_events(tasks, random.Random(2)))
    await store.close()
    settings = Settings(auth=False, store_url=f"duckdb:///{path}", analysis_seconds=600)
    store = DuckDBStore(str(path))
    window = {
        "from": (START - timedelta(days=1)).isoformat(),
        "to": (NOW + timedelta(days=1)).isoformat(),
    }
    jobs = {
        "SUMMARY of every task": {"operation": "SUMMARY", "dataset": {"tasks": window}},
        "CLUSTERING (k=4) of completion times": {
            "operation": "CLUSTERING",
            "k": 4,
            "columns": ["completion_seconds"],
            "dataset": {"tasks": window},
        },
    }
    with ServerThread(create_app(settings, store=store)) as server:
        async with httpx.AsyncClient(base_url=server.base_url, timeout=600) as http:
            warm_up = {"operation": "SUMMARY", "dataset": {"rows": [{"a": 1}]}}
            await post(http, RUN, {"input": warm_up})
            report("idle", await latencies(http, None, 200))
            for name, job_input in jobs.items():
                started = time.perf_counter()
                job = asyncio.create_task(post(http, RUN, {"input": job_input}))
                busy = await latencies(http, job, 0)
                took = time.perf_counter() - started
                body = job.result()["data"]["runAnalysis"]
                assert body["state"] == "SUCCEEDED", body
                result = body["result"]
                rows = (
                    sum(result["sizes"]) if "sizes" in result else result["text"]["status"]["count"]
                )
                print(f"{name}: {rows:,} rows, {took:.2f} s end to end")
                report("during the job", busy)


def report(label: str, seen: dict[str, list[float]]) -> None:
    for name, values in seen.items():
        ordered = sorted(values)
        p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))]
        print(
            f"  {name:6} {label:15} n={len(values):4}  median {statistics.median(values) * 1e3:6.2f}"
            f" ms  p99 {p99 * 1e3:7.2f} ms  max {max(values) * 1e3:7.2f} ms"
        )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--tasks", type=int, default=1_000_000)
    parser.add_argument("--rounds", type=int, default=5)
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        await kmeans_ratio(Path(directory) / "users.duckdb", arguments.users, arguments.rounds)
        if arguments.tasks:
            await big_jobs(Path(directory) / "tasks.duckdb", arguments.tasks)


if __name__ == "__main__":
    asyncio.run(main())
