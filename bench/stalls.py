"""Does one client's heavy request hold up everybody else? ``/health`` latency, measured side by
side: with the server idle, and while it does the two things an outside review found stalling
it for tens of seconds.

1. ``eventStream`` storm: ``--sockets`` WebSockets hold ``--streams`` ``eventStream``
   subscriptions in all (half of them asking for more fields than the others), then one
   ``trackEvents`` of ``--events`` events; until every subscription received every event.
2. Large answers: ``--answers`` of the largest ``eventCounts`` the cost limit lets through
   (3 names by the minute over 24 hours, 4,323 points), two at a time; then the query that once
   cost 6 and answered 936,050 points in 40 s (50 names by the minute over 13 days).

A thread asks ``/health`` every 10 ms throughout, on a connection of its own; reported: its
median and worst wait in each phase (goal: the worst under ~100 ms), and how long each phase
took. The client shares the machine's cores with the server.

    .venv/bin/python -m bench.stalls [--sockets 20] [--streams 200] [--events 500]
                                     [--answers 20]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import threading
import time

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from tests.kafka.broker import free_port
from tests.support import GATEWAY, serving

STREAMS = (
    "subscription { eventStream { id } }",
    "subscription { eventStream { id name userId occurredAt receivedAt source properties } }",
)
LARGEST = (
    '{ eventCounts(names: ["a", "b", "c"], range: {last: "24h"}, interval: MINUTE) '
    "{ name total points { bucket count } } }"
)
HUGE = (
    "{ eventCounts(names: ["
    + ", ".join(f'"n{n}"' for n in range(50))
    + '], range: {last: "13d"}, interval: MINUTE) { points { bucket count } } }'
)


class Prober:
    """Asks /health every 10 ms in a thread of its own; ``phase`` names where the waits go."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.phase = "idle"
        self.waits: dict[str, list[float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        with httpx.Client(base_url=self.base_url, timeout=120) as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                http.get("/health").raise_for_status()
                self.waits.setdefault(self.phase, []).append(time.perf_counter() - started)
                self._stop.wait(0.01)

    def __enter__(self) -> Prober:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(120)


async def storm(url: str, base_url: str, sockets: int, streams: int, events: int) -> float:
    connections: list[ClientConnection] = []
    for _ in range(sockets):
        ws = await connect(url, subprotocols=[Subprotocol("graphql-transport-ws")], max_size=None)
        await ws.send(json.dumps({"type": "connection_init", "payload": {}}))
        assert json.loads(await ws.recv())["type"] == "connection_ack"
        connections.append(ws)
    for n in range(streams):
        ws = connections[n % sockets]
        payload = {"query": STREAMS[n % 2]}
        await ws.send(json.dumps({"id": str(n), "type": "subscribe", "payload": payload}))
    expected = streams * events
    per_socket = [0] * sockets

    async def read(index: int, ws: ClientConnection, wanted: int) -> None:
        while per_socket[index] < wanted:
            message = json.loads(await ws.recv())
            if message["type"] == "next":
                per_socket[index] += 1
            elif message["type"] not in ("ping", "pong"):
                raise RuntimeError(f"unexpected message {message}")

    # Wait until the server holds every subscription: one event each reaches them all.
    readers = [
        asyncio.create_task(read(i, ws, len(range(i, streams, sockets))))
        for i, ws in enumerate(connections)
    ]
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        track = "mutation($e: [EventInput!]!) { trackEvents(inputs: $e) { accepted } }"
        while not all(r.done() for r in readers):
            await http.post("/graphql", json={"query": track, "variables": {"e": [{"name": "w"}]}})
            await asyncio.wait(readers, timeout=0.5)
        per_socket[:] = [0] * sockets
        batch = [
            {"name": "storm", "userId": f"u{n}", "properties": {"n": n}} for n in range(events)
        ]
        readers = [
            asyncio.create_task(read(i, ws, len(range(i, streams, sockets)) * events))
            for i, ws in enumerate(connections)
        ]
        started = time.perf_counter()
        body = (
            await http.post("/graphql", json={"query": track, "variables": {"e": batch}})
        ).json()
        assert body["data"]["trackEvents"]["accepted"] == events, body
        await asyncio.gather(*readers)
        took = time.perf_counter() - started
    assert sum(per_socket) == expected
    for ws in connections:
        await ws.close()
    return took


async def answers(base_url: str, count: int) -> tuple[float, float, str]:
    async with httpx.AsyncClient(base_url=base_url, timeout=120) as http:
        started = time.perf_counter()
        for _ in range(count // 2):
            replies = await asyncio.gather(
                *(http.post("/graphql", json={"query": LARGEST}) for _ in range(2))
            )
            for reply in replies:
                assert "errors" not in reply.json(), reply.text
        largest = time.perf_counter() - started
        started = time.perf_counter()
        refused = (await http.post("/graphql", json={"query": HUGE})).json()
        huge = time.perf_counter() - started
    return largest, huge, refused["errors"][0]["extensions"]["code"]


def summary(waits: list[float]) -> str:
    return (
        f"{len(waits):5d} probes  median {statistics.median(waits) * 1000:6.1f} ms  "
        f"worst {max(waits) * 1000:7.1f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sockets", type=int, default=20)
    parser.add_argument("--streams", type=int, default=200)
    parser.add_argument("--events", type=int, default=500)
    parser.add_argument("--answers", type=int, default=20)
    arguments = parser.parse_args()
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        command = [
            GATEWAY,
            "serve",
            "--no-auth",
            "--port",
            str(port),
            "--store",
            f"duckdb:///{folder}/stalls.duckdb",
            "--max-subscriptions-per-connection",
            str(-(-arguments.streams // arguments.sockets)),
        ]
        with serving(command, f"{base_url}/health"), Prober(base_url) as prober:
            time.sleep(2)
            prober.phase = "storm"
            took = asyncio.run(
                storm(
                    base_url.replace("http", "ws") + "/graphql",
                    base_url,
                    arguments.sockets,
                    arguments.streams,
                    arguments.events,
                )
            )
            prober.phase = "answers"
            largest, huge, code = asyncio.run(answers(base_url, arguments.answers))
            prober.phase = "after"
            time.sleep(1)
    print(f"/health while idle:            {summary(prober.waits['idle'])}")
    print(f"/health during the storm:      {summary(prober.waits['storm'])}")
    print(f"/health during large answers:  {summary(prober.waits['answers'])}")
    messages = arguments.streams * arguments.events
    print(
        f"storm: {arguments.streams} eventStream subscriptions x {arguments.events} events = "
        f"{messages:,} messages in {took:.2f} s ({messages / took:,.0f}/s)"
    )
    print(
        f"answers: {arguments.answers} of the largest allowed in {largest:.2f} s; "
        f"50 names by the minute over 13 days: {code} in {huge * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
