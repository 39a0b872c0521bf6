"""A realistic synthetic workload, sent through the public GraphQL API of a running gateway.

Users sign up, log in, view pages and search; a few buy. API latency has a long tail (log-normal
with rare slow requests) per endpoint and region; tasks are created and most are completed hours
later. Everything is spread over the last ``days`` days, with a daily rhythm.
"""

from __future__ import annotations

import math
import random
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from gql_analytics.domain.timerange import iso_utc

BATCH = 1000
EVENT_WEIGHTS = {
    "page_view": 50,
    "login": 10,
    "search": 15,
    "button_click": 20,
    "purchase": 2,
    "user_signup": 1,
}
ENDPOINTS = ("/api/tasks", "/api/users", "/api/search", "/api/checkout")
SOURCES = ("web", "ios", "android")
PRICES = {"free": 5, "pro": 29, "team": 99}  # what a purchase's amount is a multiple of
REGIONS = ("eu-west", "us-east", "ap-south")

TRACK_EVENTS = """mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted errors { index message } } }"""
RECORD_METRICS = """mutation($inputs: [MetricInput!]!) { recordMetrics(inputs: $inputs) { accepted errors { index message } } }"""
DECLARE = """mutation($of: RecordKind!, $keys: [String!]!) { declareDimensions(of: $of, keys: $keys) { key } }"""
DIMENSIONS = {"EVENTS": ["plan"], "METRICS": ["endpoint", "region"]}
"""What the demo's rollups are split by: a few values each (the user, never: questions by user
scan the raw events)."""


def latency_ms(rng: random.Random) -> float:
    """An API latency: log-normal around 120 ms, with 2 % slow requests 5-20 times longer."""
    slow = rng.random() < 0.02
    return rng.lognormvariate(math.log(120), 0.35) * (rng.uniform(5, 20) if slow else 1)


def _moment(rng: random.Random, now: datetime, days: int) -> datetime:
    """A time in the last ``days`` days, busier in the (UTC) afternoon than at night."""
    while True:
        offset = rng.uniform(0, days * 86400)
        moment = now - timedelta(seconds=offset)
        if rng.random() < 0.35 + 0.65 * math.sin(math.pi * moment.hour / 24) ** 2:
            return moment


def events(rng: random.Random, now: datetime, users: int, days: int) -> Iterator[dict[str, Any]]:
    names = list(EVENT_WEIGHTS)
    weights = list(EVENT_WEIGHTS.values())
    for _ in range(users * days * 8):
        name = rng.choices(names, weights)[0]
        plan = rng.choice(("free", "pro", "team"))
        properties: dict[str, Any] = {"plan": plan}
        if name == "purchase":
            properties["amount"] = PRICES[plan] * rng.randint(1, 3)
        yield {
            "name": name,
            "userId": f"user-{rng.randrange(users):04d}",
            "occurredAt": iso_utc(_moment(rng, now, days)),
            "properties": properties,
            "source": rng.choice(SOURCES),
        }
    for task in range(users * days // 2):
        user = f"user-{rng.randrange(users):04d}"
        created = _moment(rng, now, days)
        yield {
            "name": "task_created",
            "userId": user,
            "occurredAt": iso_utc(created),
            "properties": {"task_id": f"task-{task}", "status": "open"},
            "source": "demo",
        }
        done = created + timedelta(seconds=rng.lognormvariate(math.log(4 * 3600), 1.0))
        if done < now and rng.random() < 0.8:
            yield {
                "name": "task_completed",
                "userId": user,
                "occurredAt": iso_utc(done),
                "properties": {"task_id": f"task-{task}"},
                "source": "demo",
            }


def metrics(rng: random.Random, now: datetime, users: int, days: int) -> Iterator[dict[str, Any]]:
    for _ in range(users * days * 8):
        latency = latency_ms(rng)
        yield {
            "name": "api_response_time",
            "value": round(latency, 2),
            "tags": {"endpoint": rng.choice(ENDPOINTS), "region": rng.choice(REGIONS)},
            "occurredAt": iso_utc(_moment(rng, now, days)),
        }


def _send(client: httpx.Client, url: str, query: str, items: list[dict[str, Any]]) -> int:
    response = client.post(url, json={"query": query, "variables": {"inputs": items}})
    response.raise_for_status()
    body = response.json()
    if body.get("errors"):
        raise RuntimeError(body["errors"][0]["message"])
    result = next(iter(body["data"].values()))
    return int(result["accepted"])


def _declare(client: httpx.Client, url: str) -> None:
    """Declare the demo's dimensions before its records are written, so that the rollups hold
    them from the start (it takes an admin key; without one, questions on them scan)."""
    for kind, keys in DIMENSIONS.items():
        response = client.post(
            url, json={"query": DECLARE, "variables": {"of": kind, "keys": keys}}
        )
        response.raise_for_status()
        errors = response.json().get("errors")
        if errors:
            print(f"demo: dimensions not declared: {errors[0]['message']}", file=sys.stderr)
            return
    print("declared dimensions: events by plan; metrics by endpoint and region", file=sys.stderr)


def send_demo(
    url: str,
    *,
    users: int = 200,
    days: int = 30,
    seed: int = 7,
    now: datetime | None = None,
    api_key: str | None = None,
) -> int:
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    sent = {"events": 0, "metric points": 0}
    try:
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        with httpx.Client(timeout=60, headers=headers) as client:
            _declare(client, url)
            for label, query, items in (
                ("events", TRACK_EVENTS, events(rng, now, users, days)),
                ("metric points", RECORD_METRICS, metrics(rng, now, users, days)),
            ):
                batch: list[dict[str, Any]] = []
                for item in items:
                    batch.append(item)
                    if len(batch) == BATCH:
                        sent[label] += _send(client, url, query, batch)
                        batch = []
                if batch:
                    sent[label] += _send(client, url, query, batch)
                print(f"sent {sent[label]} {label}", file=sys.stderr)
    except (httpx.HTTPError, RuntimeError) as error:
        print(f"demo: could not send to {url}: {error} (is `make run` serving?)", file=sys.stderr)
        return 1
    print(f"done: open {url.removesuffix('/graphql')}/graphql in a browser", file=sys.stderr)
    return 0
