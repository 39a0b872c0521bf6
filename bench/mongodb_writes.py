"""Round trips and documents written per ingested batch on the MongoDB store, counted (not timed)
on the in-process stand-in of the tests: a batch of 1,000 records spread over 10 series (5 event
names with 50 users, 5 metric series), applied as the consumer and the mutations apply it.

    .venv/bin/python -m bench.mongodb_writes [--records 1000] [--batches 3]

Goal: one bulk write per collection per batch. The transaction adds one round trip on a real
server (``commitTransaction``; the start rides on the first operation), not counted here.
"""

from __future__ import annotations

import argparse
import asyncio
import random
from datetime import UTC, datetime, timedelta

from gql_analytics.adapters.mongodb.store import MongoStore
from gql_analytics.domain.records import Batch, Event, MetricPoint, Record, SourcePosition
from tests.mongodb_standin import StandInClient

EVENT_NAMES = ["view", "click", "search", "purchase", "signup"]
METRICS = [
    ("api_latency", "eu"),
    ("api_latency", "us"),
    ("queue_depth", "eu"),
    ("cpu", "a"),
    ("cpu", "b"),
]


def batch_of(number: int, size: int, rng: random.Random) -> Batch:
    start = datetime(2026, 11, 22, 9, 0, tzinfo=UTC) + timedelta(minutes=number)
    records: list[Record] = []
    for i in range(size):
        at = start + timedelta(seconds=rng.random() * 60)
        if i % 2:
            name, host = METRICS[i // 2 % len(METRICS)]
            value = rng.lognormvariate(3, 1)
            records.append(
                MetricPoint(f"m{number}-{i}", name, value, "default", at, at, {"host": host})
            )
        else:
            name = EVENT_NAMES[i // 2 % len(EVENT_NAMES)]
            user = f"u{rng.randrange(50)}"
            records.append(Event(f"e{number}-{i}", name, "default", at, at, user))
    return Batch(records, [SourcePosition("analytics.events", 0, (number + 1) * size)])


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=1000)
    parser.add_argument("--batches", type=int, default=3)
    args = parser.parse_args()
    client = StandInClient()
    store = MongoStore(client, "bench")
    await store.ping()
    rng = random.Random(7)
    for number in range(args.batches):
        batch = batch_of(number, args.records, rng)
        before_calls, before_written = client.calls.copy(), client.written.copy()
        result = await store.apply(batch)
        calls = client.calls - before_calls
        written = client.written - before_written
        setup = sum(
            n for (c, method), n in calls.items() if method == "create_index" or c == "admin"
        )
        bulk = {c: n for (c, method), n in calls.items() if method == "bulk_write"}
        reads = {c: n for (c, method), n in calls.items() if method in ("find", "aggregate")}
        print(
            f"batch {number + 1}: {len(batch.records)} records, {result.duplicates} duplicates; "
            f"round trips {sum(calls.values()) - setup} ({setup} set-up calls besides: hello, indexes): "
            f"bulk writes {dict(sorted(bulk.items()))}, reads {dict(sorted(reads.items()))}; "
            f"documents written {dict(sorted(written.items()))} = {sum(written.values())}"
        )
        worst = max(bulk.values())
        print(f"  bulk writes per collection: at most {worst} (goal: 1)")
    await store.close()


if __name__ == "__main__":
    asyncio.run(main())
