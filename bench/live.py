"""Many live subscriptions on one server process: produce-to-push latency and memory.

A Tansu broker on loopback and one ``gql-analytics serve`` process (Kafka on, DuckDB file,
defaults otherwise: a message at most every 250 ms per subscription, ``--throttle-ms``).
``--sockets`` WebSockets hold ``--per-socket`` ``eventCount`` subscriptions each (or, with
``--field live``, live queries asking the same count of ``aggregate``), over
``--names`` distinct event names (each name has as many subscribers as every other). Once every
subscription has its first value, events are produced to Kafka at ``--rate`` a second for
``--seconds``, round-robin over the names, by a producer process of its own (as a service would
be: not waiting on the client's reading).

Two latencies: for each message, from producing the newest record it counts (the count-th
record of its name) to receiving it; and for each record and subscription, from producing the
record to receiving the first message that counts it (so the wait for the next message, at most
one a subscription per 250 ms, is in it). Reported: messages, both latencies' p50/p99/max (goal:
p99 at most 0.5 s, judged on every record), and the server's resident memory before and after
subscribing (bytes per subscription).

    .venv/bin/python -m bench.live [--sockets 100] [--per-socket 100] [--names 100]
                                   [--rate 1000] [--seconds 20] [--throttle-ms 250]
                                   [--field eventCount|live]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import re
import tempfile
import time
from collections import defaultdict
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import uvloop
from aiokafka import AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.kafka.broker import create_topics, free_port, tansu
from tests.support import GATEWAY, serving

ARRIVED = asyncio.Event()  # a message came, to any client
FIELDS = {
    # field: (the subscription, a message's (id, count) read without a JSON parser's cost)
    "eventCount": (
        'subscription($n: String!) { eventCount(name: $n, range: {last: "1h"}) { count } }',
        re.compile(
            r'\{"id":"([^"]*)","type":"next","payload":\{"data":\{"eventCount":\{"count":(\d+)\}'
        ),
    ),
    # Any query held live: the same count, as an answer of the query engine.
    "live": (
        'subscription($n: String!) { live { aggregate(of: EVENTS, names: [$n], range: {last: "1h"},'
        " measures: [{op: COUNT}]) { groups { values } } } }",
        re.compile(
            r'\{"id":"([^"]*)","type":"next","payload":\{"data":\{"live":\{"aggregate":'
            r'\{"groups":\[\{"values":\[(\d+)\.0\]'
        ),
    ),
}


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


@contextmanager
def gateway(
    bootstrap: str, topic: str, store: Path, per_socket: int, throttle_ms: int
) -> Iterator[tuple[int, int]]:
    port = free_port()
    command = [
        GATEWAY,
        "serve",
        "--no-auth",
        "--port",
        str(port),
        "--store",
        f"duckdb:///{store}",
        "--kafka",
        bootstrap,
        "--kafka-topics",
        topic,
        "--kafka-live-topic",
        f"{topic}.live",
        "--rate-limit",
        "0",
        "--max-subscriptions-per-connection",
        str(per_socket),
        "--max-subscriptions-per-tenant",
        "1000000",
        "--live-throttle-ms",
        str(throttle_ms),
        "--log-level",
        "warning",
    ]
    with serving(command, f"http://127.0.0.1:{port}/ready") as process:
        yield process.pid, port


class Client:
    """The subscriptions of one socket, and when each of their messages arrived."""

    def __init__(
        self, connection: ClientConnection, names: dict[str, str], next: re.Pattern[str]
    ) -> None:
        self.connection = connection
        self.next = next
        self.names = names  # subscription id -> event name
        self.first = asyncio.Event()
        self.counts: dict[str, int] = {}
        self.arrivals: list[tuple[float, str, int]] = []  # (when, subscription id, count)

    async def read(self) -> None:
        async for raw in self.connection:
            now = time.perf_counter()
            found = self.next.match(raw) if isinstance(raw, str) else None
            if found is not None:  # the usual message, read without a JSON parser's cost
                sid, count = found[1], int(found[2])
            else:
                message = json.loads(raw)
                if message.get("type") != "next":
                    continue
                sid, count = message["id"], _count(message["payload"]["data"])
            self.arrivals.append((now, sid, count))
            self.counts[sid] = count
            ARRIVED.set()
            if len(self.counts) == len(self.names):
                self.first.set()

    def latencies(
        self, produced: dict[str, list[float]], since: float
    ) -> tuple[list[float], list[float]]:
        """For each message after ``since``, from producing its newest record; and for each
        record, from producing it to the first message that counts it."""
        newest: list[float] = []
        every: list[float] = []
        before: dict[str, int] = {}
        for now, sid, count in self.arrivals:
            times = produced[self.names[sid]]
            if now > since and count:
                newest.append(now - times[count - 1])
            if sid in before:
                every.extend(now - times[i] for i in range(before[sid], count))
            before[sid] = count
        return newest, every


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sockets", type=int, default=100)
    parser.add_argument("--per-socket", type=int, default=100)
    parser.add_argument("--names", type=int, default=100)
    parser.add_argument("--rate", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--throttle-ms", type=int, default=250, help="the server's default: 250")
    parser.add_argument(
        "--field", choices=sorted(FIELDS), default="eventCount", help="what each subscription is"
    )
    args = parser.parse_args()
    names = [f"event_{i:03d}" for i in range(args.names)]
    with tansu() as bootstrap, tempfile.TemporaryDirectory() as directory:
        topic = "bench.live.events"
        await create_topics(bootstrap, [topic])
        store = Path(directory, "live.duckdb")
        with gateway(bootstrap, topic, store, args.per_socket, args.throttle_ms) as (pid, port):
            idle = rss(pid)
            url = f"ws://127.0.0.1:{port}/graphql"
            clients = await subscribe(url, names, args)
            readers = [asyncio.create_task(c.read()) for c in clients]
            await asyncio.wait_for(asyncio.gather(*(c.first.wait() for c in clients)), 600)
            subscribed = rss(pid)
            total = args.sockets * args.per_socket
            print(
                f"{total} subscriptions over {args.sockets} sockets and {args.names} names: "
                f"server RSS {idle / 2**20:.0f} MB idle, {subscribed / 2**20:.0f} MB subscribed, "
                f"{(subscribed - idle) / total / 1024:.1f} KB a subscription"
            )
            since = time.perf_counter()
            with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
                # The producer is a process of its own, as a service producing events would be:
                # on the client's event loop, its sends would wait for the client's reading.
                produced = await asyncio.get_running_loop().run_in_executor(
                    pool, produce, bootstrap, topic, names, args.rate, args.seconds
                )
            behind = await consumer_lag(port)
            final = {name: len(produced[name]) for name in names}
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline and not all(
                c.counts[sid] == final[c.names[sid]] for c in clients for sid in c.names
            ):
                ARRIVED.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(ARRIVED.wait(), deadline - time.monotonic())
            lagging = sum(c.counts[sid] != final[c.names[sid]] for c in clients for sid in c.names)
            busy = rss(pid)
            for task in readers:
                task.cancel()
            for client in clients:
                await client.connection.close()

    newest: list[float] = []
    every: list[float] = []
    for client in clients:
        of_messages, of_records = client.latencies(produced, since)
        newest += of_messages
        every += of_records

    def summary(latencies: list[float]) -> str:
        ordered = sorted(latencies)

        def ms(q: float) -> str:
            return f"{ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000:.0f} ms"

        return f"p50 {ms(0.5)}, p99 {ms(0.99)}, max {ms(1.0)}"

    print(
        f"{sum(len(v) for v in produced.values())} records at {args.rate}/s for {args.seconds:g} s:"
        f" {len(newest)} messages pushed; produce-to-push latency of each message's newest record"
        f" {summary(newest)}; of every record, to each subscription ({len(every)})"
        f" {summary(every)} (goal: p99 at most 500 ms); server RSS at the end"
        f" {busy / 2**20:.0f} MB; the consumer's lag when the last record was produced:"
        f" {behind:.0f} records; subscriptions behind their final count 30 s later: {lagging}"
    )


async def consumer_lag(port: int) -> float:
    """Records on the broker not yet applied, from the gateway's /metrics."""
    async with httpx.AsyncClient() as http:
        scraped = (await http.get(f"http://127.0.0.1:{port}/metrics")).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(scraped)
        for sample in family.samples
        if sample.name == "gql_analytics_kafka_consumer_lag"
    )


def _count(data: dict[str, Any]) -> int:
    if "eventCount" in data:
        return int(data["eventCount"]["count"])
    groups = data["live"]["aggregate"]["groups"]
    return int(groups[0]["values"][0]) if groups else 0


async def subscribe(url: str, names: list[str], args: argparse.Namespace) -> list[Client]:
    query, next = FIELDS[args.field]
    clients = []
    for s in range(args.sockets):
        connection = await connect(
            url, subprotocols=[Subprotocol("graphql-transport-ws")], max_queue=None
        )
        await connection.send(json.dumps({"type": "connection_init", "payload": {}}))
        while json.loads(await connection.recv())["type"] != "connection_ack":
            pass
        ids = {}
        for j in range(args.per_socket):
            name = names[(s * args.per_socket + j) % len(names)]
            sid = str(j)
            ids[sid] = name
            payload = {"query": query, "variables": {"n": name}}
            await connection.send(json.dumps({"id": sid, "type": "subscribe", "payload": payload}))
        clients.append(Client(connection, ids, next))
    return clients


def produce(
    bootstrap: str, topic: str, names: list[str], rate: int, seconds: float
) -> dict[str, list[float]]:
    """``rate`` events a second in ticks of 10 ms, round-robin over ``names``; each name's send
    times (``time.perf_counter``, the same clock in every process), in order."""
    return asyncio.run(_produce(bootstrap, topic, names, rate, seconds))


async def _produce(
    bootstrap: str, topic: str, names: list[str], rate: int, seconds: float
) -> dict[str, list[float]]:
    produced: dict[str, list[float]] = defaultdict(list)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=0)
    await producer.start()
    try:
        per_tick = max(1, rate // 100)
        started = time.perf_counter()
        sent = 0
        while sent < rate * seconds:
            for _ in range(per_tick):
                name = names[sent % len(names)]
                value = json.dumps({"event": name, "id": f"r{sent}"}).encode()
                await producer.send(topic, value)
                produced[name].append(time.perf_counter())
                sent += 1
            pause = started + sent / rate - time.perf_counter()
            if pause > 0:
                await asyncio.sleep(pause)
        await producer.flush()
    finally:
        await producer.stop()
    return dict(produced)


if __name__ == "__main__":
    uvloop.run(main())  # the client shares the machine: it should take as little as it can
