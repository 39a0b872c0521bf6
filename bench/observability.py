"""What tracing and metrics cost: the dashboard query over HTTP with both on against both off.

Three gateway processes (``gql-analytics serve``) on copies of one DuckDB file (200,000 latency
points over 30 days, 20,000 events), side by side on loopback:

- **on**: the defaults: a span per request, per operation and per store call, exported over
  OTLP/HTTP (``OTEL_EXPORTER_OTLP_ENDPOINT``) to a stand-in collector in this process that
  accepts and counts every export; every operation counted and timed for /metrics;
- **sampled**: the same, with one trace in ten recorded (``OTEL_TRACES_SAMPLER=
  parentbased_traceidratio``, ``OTEL_TRACES_SAMPLER_ARG=0.1``), as operators run busy services;
- **off**: ``--no-tracing --no-metrics``.

A client keeps ``--concurrency`` requests in flight for ``--seconds`` against each in turn, the
order rotated every round, for ``--rounds`` rounds, with two queries: the dashboard query (a ``metric``
with 24 hourly points and percentiles, and ``topEvents``), and a light one (the metric names:
one small store read), where the fixed cost of spans and timings weighs most. Reported: requests
per second, median latency and the server process's CPU time per request (user + system, from
/proc: the steadiest of the three on a shared machine) per round; medians; and the cost ratios
(off rate / on rate, and on CPU / off CPU per request; goal: at most 1.1).

    .venv/bin/python -m bench.observability [--rounds 5] [--seconds 5] [--concurrency 8]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from bench.common import END, latency_points
from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.domain.records import Batch, Event
from tests.kafka.broker import free_port
from tests.support import GATEWAY, serving

DASHBOARD = """
query Dashboard($from: DateTime!, $to: DateTime!) {
  metric(name: "api_response_time", range: {from: $from, to: $to}, interval: HOUR) {
    count avg p95 points { bucket count avg p50 p95 p99 }
  }
  topEvents(range: {from: $from, to: $to}, limit: 10) { name count }
}"""
LIGHT = "query Names { metrics { name count } }"
VARIABLES = {"from": (END - timedelta(days=1)).isoformat(), "to": END.isoformat()}
NAMES = ("page_view", "login", "search", "button_click", "purchase", "share")


def arguments(doc: str | None) -> argparse.Namespace:
    """The data and load of the HTTP benchmarks (this one and ``bench.dashboard``)."""
    parser = argparse.ArgumentParser(description=(doc or "").split("\n", 1)[0])
    parser.add_argument("--points", type=int, default=200_000)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=8)
    return parser.parse_args()


async def load(path: Path, points: int, events: int) -> None:
    store = DuckDBStore(str(path))
    for batch in latency_points(points, 50_000):
        await store.apply(Batch(batch))
    step = timedelta(days=1) / events
    start = END - timedelta(days=1)
    await store.apply(
        Batch(
            [
                Event(f"e{i}", NAMES[i % len(NAMES)], "default", start + i * step, END)
                for i in range(events)
            ]
        )
    )
    await store.close()


class Collector:
    """An OTLP/HTTP endpoint that accepts every export and counts them."""

    def __init__(self) -> None:
        self.exports = 0
        self.bytes = 0
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                collector.exports += 1
                collector.bytes += len(body)
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


@dataclass(frozen=True)
class Gateway:
    url: str
    pid: int

    def cpu_seconds(self) -> float:
        """User + system CPU time of the process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextmanager
def gateway(store: Path, flags: list[str], env: dict[str, str]) -> Iterator[Gateway]:
    port = free_port()
    command = [
        GATEWAY,
        "serve",
        "--store",
        f"duckdb:///{store}",
        "--port",
        str(port),
        "--no-auth",
        "--rate-limit",
        "0",
        "--retention-days",
        "0",
        "--log-level",
        "warning",
        *flags,
    ]
    url = f"http://127.0.0.1:{port}"
    with serving(command, f"{url}/health", env) as process:
        yield Gateway(url, process.pid)


async def hammer(
    server: Gateway, query: str, seconds: float, concurrency: int
) -> tuple[float, float, float]:
    """Requests per second, median latency (ms) and server CPU per request (ms) with
    ``concurrency`` requests in flight."""
    latencies: list[float] = []
    body = {"query": query, "variables": VARIABLES if "$from" in query else {}}
    async with httpx.AsyncClient(base_url=server.url, timeout=30) as http:

        async def one() -> None:
            started = time.perf_counter()
            answer = await http.post("/graphql", json=body)
            assert answer.status_code == 200, answer.text
            assert "errors" not in answer.json(), answer.text
            latencies.append(time.perf_counter() - started)

        for _ in range(20):  # warm-up: connections, caches
            await one()
        latencies.clear()

        async def worker(until: float) -> None:
            while time.perf_counter() < until:
                await one()

        cpu, started = server.cpu_seconds(), time.perf_counter()
        until = started + seconds
        await asyncio.gather(*(worker(until) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - started, server.cpu_seconds() - cpu
    count = len(latencies)
    return count / elapsed, statistics.median(latencies) * 1000, cpu / count * 1000


async def main() -> None:
    args = arguments(__doc__)
    collector = Collector()
    exported = {"OTEL_EXPORTER_OTLP_ENDPOINT": collector.url}
    sampled = {
        **exported,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
    }
    configurations = {
        "on": ([], exported),
        "sampled": ([], sampled),
        "off": (["--no-tracing", "--no-metrics"], {}),
    }
    with tempfile.TemporaryDirectory() as directory, contextlib.ExitStack() as stack:
        first = Path(directory, "data.duckdb")
        await load(first, args.points, args.events)
        servers = {}
        for name, (flags, env) in configurations.items():
            store = Path(directory, f"{name}.duckdb")
            shutil.copy(first, store)
            servers[name] = stack.enter_context(gateway(store, flags, env))
        for label, query in (("dashboard", DASHBOARD), ("light", LIGHT)):
            print(f"\n{label} query, {args.concurrency} in flight, {args.seconds:g} s a round")
            await compare(servers, query, args)
        async with httpx.AsyncClient() as http:
            scraped = await http.get(f"{servers['on'].url}/metrics")
            assert "gql_analytics_graphql_requests_total" in scraped.text
            assert (await http.get(f"{servers['off'].url}/metrics")).status_code == 404
    print(f"\ncollector: {collector.exports} OTLP exports, {collector.bytes / 1e6:.1f} MB of spans")


Figures = tuple[float, float, float]  # requests a second, median latency (ms), CPU ms a request


async def compare(servers: dict[str, Gateway], query: str, args: argparse.Namespace) -> None:
    """Each server in turn, the order rotated every round; each traced one against ``off``."""
    figures: dict[str, list[Figures]] = {name: [] for name in servers}
    names = list(servers)
    for round in range(args.rounds):
        order = names[round % len(names) :] + names[: round % len(names)]
        for name in order:
            figures[name].append(await hammer(servers[name], query, args.seconds, args.concurrency))
        print(f"round {round + 1}: " + " | ".join(_shown(n, figures[n][-1]) for n in names))
    medians = {
        name: tuple(statistics.median(column) for column in zip(*rounds, strict=True))
        for name, rounds in figures.items()
    }
    print("medians: " + " | ".join(_shown(n, medians[n]) for n in names))
    off, off_rounds = medians["off"], figures["off"]
    for name in (n for n in names if n != "off"):
        rate_ratios = [b[0] / a[0] for a, b in zip(figures[name], off_rounds, strict=True)]
        cpu_ratios = [a[2] / b[2] for a, b in zip(figures[name], off_rounds, strict=True)]
        print(
            f"cost of {name} (goal: at most 1.1): rate off/{name} {off[0] / medians[name][0]:.3f}"
            f" (median of rounds {statistics.median(rate_ratios):.3f}); CPU a request "
            f"{name}/off {medians[name][2] / off[2]:.3f} (median of rounds "
            f"{statistics.median(cpu_ratios):.3f})"
        )


def _shown(name: str, figures: Sequence[float]) -> str:
    rate, latency, cpu = figures
    return f"{name} {rate:6.1f}/s {latency:6.2f} ms {cpu:5.2f} ms CPU"


if __name__ == "__main__":
    asyncio.run(main())
