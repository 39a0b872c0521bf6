"""Repeated dashboard queries through /graphql against a bare Starlette route returning the same
JSON, on the same server process and from the same client.

The server (this script with ``serve``, in a process of its own) is the gateway's app over a
DuckDB file (200,000 latency points over 30 days, 20,000 events), defaults as ``gql-analytics
serve`` has them (tracing and metrics on, no exporter; the query cache on), plus one route,
``/bare``, that answers the dashboard's JSON computed once. A client keeps ``--concurrency``
requests in flight for ``--seconds`` against each in turn, for ``--rounds`` rounds: the dashboard
query (a ``metric`` with 24 hourly points and percentiles, and ``topEvents``) and the bare route.
Reported: requests per second per round, medians, their ratio (goal: /graphql at least 0.5 of the
bare route), the share of cache hits; and the same query with the cache off
(``--query-cache-entries 0``) for comparison.

    .venv/bin/python -m bench.dashboard [--rounds 5] [--seconds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx

from bench.observability import DASHBOARD, VARIABLES, arguments, load
from tests.kafka.broker import free_port
from tests.support import serving

BODY = {"query": DASHBOARD, "variables": VARIABLES}


def serve(store: str, port: int, cache_entries: int) -> None:
    """The gateway's app with a bare route beside it, served by uvicorn on loopback."""
    import uvicorn
    from starlette.requests import Request
    from starlette.responses import JSONResponse, Response
    from starlette.routing import Route

    from gql_analytics.bootstrap import create_app
    from gql_analytics.settings import Settings

    settings = Settings(
        store_url=f"duckdb:///{store}",
        auth=False,
        rate_limit=0,
        log_level="warning",
        query_cache_entries=cache_entries,
    )
    app = create_app(settings)
    answer: dict[str, Any] = {}

    async def bare(request: Request) -> Response:
        if not answer:  # the dashboard's JSON, computed once, as the gateway answers it
            async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
                answer.update((await http.post("/graphql", json=BODY)).json())
            answer.pop("extensions", None)
        return JSONResponse(answer)

    app.router.routes.insert(0, Route("/bare", bare, methods=["POST"]))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


@contextmanager
def server(store: Path, cache_entries: int) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "bench.dashboard", "serve", str(store), str(port)]
    url = f"http://127.0.0.1:{port}"
    with serving([*command, str(cache_entries)], f"{url}/health"):
        yield url


async def hammer(url: str, path: str, seconds: float, concurrency: int) -> tuple[float, float]:
    """Requests per second, and the share of answers that were cache hits."""
    count = hits = 0
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:

        async def one() -> None:
            nonlocal count, hits
            answer = await http.post(path, json=BODY)
            assert answer.status_code == 200, answer.text
            body = answer.json()
            assert body.get("data"), answer.text
            assert not body.get("errors"), answer.text
            count += 1
            hits += body.get("extensions", {}).get("cache") == "hit"

        for _ in range(20):
            await one()
        count = hits = 0

        async def worker(until: float) -> None:
            while time.perf_counter() < until:
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker(started + seconds) for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return count / elapsed, hits / count


async def compare(url: str, args: argparse.Namespace) -> tuple[float, float]:
    rates: dict[str, list[float]] = {"/graphql": [], "/bare": []}
    hit_share = []
    for round in range(args.rounds):
        order = ["/graphql", "/bare"] if round % 2 == 0 else ["/bare", "/graphql"]
        for path in order:
            rate, hits = await hammer(url, path, args.seconds, args.concurrency)
            rates[path].append(rate)
            if path == "/graphql":
                hit_share.append(hits)
        graphql, bare = rates["/graphql"][-1], rates["/bare"][-1]
        print(
            f"round {round + 1}: /graphql {graphql:7.1f}/s  /bare {bare:7.1f}/s  {graphql / bare:.3f}"
        )
    graphql, bare = statistics.median(rates["/graphql"]), statistics.median(rates["/bare"])
    ratios = [g / b for g, b in zip(rates["/graphql"], rates["/bare"], strict=True)]
    print(
        f"medians: /graphql {graphql:.1f}/s, /bare {bare:.1f}/s; /graphql / bare: ratio of "
        f"medians {graphql / bare:.3f}, median of rounds {statistics.median(ratios):.3f} "
        f"(goal: at least 0.5); cache hits {statistics.median(hit_share):.0%}"
    )
    return graphql, bare


async def main() -> None:
    args = arguments(__doc__)
    with tempfile.TemporaryDirectory() as directory:
        store = Path(directory, "data.duckdb")
        await load(store, args.points, args.events)
        for entries, label in ((1000, "query cache on (default)"), (0, "query cache off")):
            print(f"\n{label}: {args.concurrency} in flight, {args.seconds:g} s a round")
            with server(store, entries) as url:
                await compare(url, args)


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        asyncio.run(main())
