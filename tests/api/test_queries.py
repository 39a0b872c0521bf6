"""Queries and mutations over HTTP against a real uvicorn server."""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Any

import httpx

from tests.support import DEADLINE, NOW, Clock, GraphQLClient, ServerThread, iso

HOUR_AGO = NOW - timedelta(hours=1)
RANGE = {"from": iso(NOW - timedelta(hours=3)), "to": iso(NOW + timedelta(minutes=1))}

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted ids errors { index field code } } }"
RECORD = "mutation($inputs: [MetricInput!]!) { recordMetrics(inputs: $inputs) { accepted errors { index } } }"


def ev(name: str, minutes_ago: float, user: str | None = "u1", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {"name": name, "occurredAt": iso(NOW - timedelta(minutes=minutes_ago))}
    if user is not None:
        item["userId"] = user
    return {**item, **extra}


async def test_a_tracked_event_is_visible_to_the_very_next_query(client: GraphQLClient) -> None:
    tracked = await client.data(
        'mutation { trackEvent(input: {name: "user_signup", userId: "u1"}) { accepted ids } }'
    )
    assert tracked["trackEvent"]["accepted"] == 1
    data = await client.data('{ eventCounts(names: ["user_signup"]) { name total } }')
    assert data["eventCounts"] == [{"name": "user_signup", "total": 1}]


async def test_event_counts_are_zero_filled_over_every_bucket(client: GraphQLClient) -> None:
    await client.data(
        TRACK, {"inputs": [ev("login", 5), ev("login", 6), ev("login", 100), ev("search", 5)]}
    )
    data = await client.data(
        'query($r: TimeRange) { eventCounts(names: ["login", "nothing"], range: $r, interval: HOUR) { name total points { bucket count } } }',
        {"r": RANGE},
    )
    login, nothing = data["eventCounts"]
    assert login["total"] == 3
    assert [p["count"] for p in login["points"]] == [0, 1, 2, 0]
    assert [p["bucket"] for p in login["points"]] == [
        iso(NOW.replace(minute=0, second=0) - timedelta(hours=h)) for h in (3, 2, 1, 0)
    ]
    assert nothing == {
        "name": "nothing",
        "total": 0,
        "points": [{"bucket": p["bucket"], "count": 0} for p in login["points"]],
    }


async def test_top_events_are_ordered_by_count(client: GraphQLClient) -> None:
    await client.data(
        TRACK, {"inputs": [ev("a", 1), ev("b", 1), ev("b", 2), ev("c", 1), ev("c", 2), ev("c", 3)]}
    )
    data = await client.data("{ topEvents(limit: 2) { name count } }")
    assert data["topEvents"] == [{"name": "c", "count": 3}, {"name": "b", "count": 2}]


async def test_active_users_are_distinct(client: GraphQLClient) -> None:
    await client.data(
        TRACK, {"inputs": [ev("a", 1, "x"), ev("b", 2, "x"), ev("a", 3, "y"), ev("a", 4, None)]}
    )
    data = await client.data(
        '{ activeUsers(range: {last: "1h"}, interval: HOUR) { total points { count } } }'
    )
    assert data["activeUsers"]["total"] == 2
    assert sum(p["count"] for p in data["activeUsers"]["points"]) == 2


async def test_metric_aggregates_match_the_recorded_values(client: GraphQLClient) -> None:
    values = [float(v) for v in range(1, 201)]
    await client.data(
        RECORD,
        {
            "inputs": [
                {
                    "name": "api_response_time",
                    "value": v,
                    "occurredAt": iso(NOW - timedelta(minutes=1 + i % 90)),
                    "tags": {"region": "eu" if i % 2 else "us"},
                }
                for i, v in enumerate(values)
            ]
        },
    )
    data = await client.data(
        'query($r: TimeRange) { metric(name: "api_response_time", range: $r, interval: HOUR, groupByTag: "region") '
        "{ count sum avg min max stddev p50 p95 p99 points { count } groups { tagValue count sum } } }",
        {"r": RANGE},
    )
    metric = data["metric"]
    mean = sum(values) / len(values)
    assert (metric["count"], metric["sum"], metric["min"], metric["max"]) == (
        200,
        sum(values),
        1.0,
        200.0,
    )
    assert math.isclose(metric["avg"], mean)
    assert math.isclose(
        metric["stddev"], math.sqrt(sum((v - mean) ** 2 for v in values) / 200), rel_tol=1e-9
    )
    assert math.isclose(metric["p50"], 100.0, rel_tol=0.01)
    assert math.isclose(metric["p95"], 190.0, rel_tol=0.01)
    assert math.isclose(metric["p99"], 198.0, rel_tol=0.01)
    assert sum(p["count"] for p in metric["points"]) == 200
    assert metric["groups"] == [
        {"tagValue": "eu", "count": 100, "sum": sum(values[1::2])},
        {"tagValue": "us", "count": 100, "sum": sum(values[0::2])},
    ]
    only_eu = await client.data(
        '{ metric(name: "api_response_time", tags: {region: "eu"}) { count } }'
    )
    assert only_eu["metric"]["count"] == 100


async def test_metrics_and_dashboard_summarise_everything(client: GraphQLClient) -> None:
    await client.data(TRACK, {"inputs": [ev("a", 1), ev("b", 1)]})
    await client.data(
        RECORD,
        {
            "inputs": [
                {"name": "m1", "value": 1, "tags": {"k": "1"}},
                {"name": "m1", "value": 2},
                {"name": "m2", "value": 3},
            ]
        },
    )
    data = await client.data(
        "{ metrics { name count lastSeen } dashboard { totalEvents totalMetricPoints uniqueEventNames uniqueMetricNames metricNames } }"
    )
    assert data["metrics"] == [
        {"name": "m1", "count": 2, "lastSeen": iso(NOW)},
        {"name": "m2", "count": 1, "lastSeen": iso(NOW)},
    ]
    assert data["dashboard"] == {
        "totalEvents": 2,
        "totalMetricPoints": 3,
        "uniqueEventNames": 2,
        "uniqueMetricNames": 2,
        "metricNames": ["m1", "m2"],
    }


async def test_events_are_paged_with_opaque_cursors(client: GraphQLClient) -> None:
    tracked = await client.data(TRACK, {"inputs": [ev("a", 5 - i, id=f"e{i}") for i in range(5)]})
    assert tracked["trackEvents"]["ids"] == [f"e{i}" for i in range(5)]
    query = "query($after: String) { events(first: 2, after: $after) { totalCount edges { cursor node { id } } pageInfo { hasNextPage endCursor } } }"
    seen: list[str] = []
    after = None
    while True:
        page = (await client.data(query, {"after": after}))["events"]
        assert page["totalCount"] == 5
        seen += [edge["node"]["id"] for edge in page["edges"]]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]
    assert seen == ["e4", "e3", "e2", "e1", "e0"]


async def test_events_filter_and_single_event_lookup(client: GraphQLClient) -> None:
    await client.data(
        TRACK,
        {
            "inputs": [
                ev("purchase", 1, "a", id="p1", properties={"plan": "pro"}),
                ev("purchase", 2, "b", id="p2", properties={"plan": "free"}),
                ev("login", 3, "a", id="l1"),
            ]
        },
    )
    data = await client.data(
        '{ events(filter: {names: ["purchase"], properties: {plan: "pro"}}) { totalCount edges { node { id userId properties } } } }'
    )
    assert data["events"] == {
        "totalCount": 1,
        "edges": [{"node": {"id": "p1", "userId": "a", "properties": {"plan": "pro"}}}],
    }
    found = await client.data(
        '{ event(id: "l1") { name occurredAt receivedAt source } missing: event(id: "zz") { id } }'
    )
    assert found == {
        "event": {
            "name": "login",
            "occurredAt": iso(NOW - timedelta(minutes=3)),
            "receivedAt": iso(NOW),
            "source": "api",
        },
        "missing": None,
    }


async def test_tasks_per_user_and_completion_times(client: GraphQLClient) -> None:
    await client.data(
        TRACK,
        {
            "inputs": [
                ev("task_completed", 10, "u1", properties={"task_id": "t1"}),
                ev("task_created", 70, "u1", properties={"task_id": "t1"}),
                ev("task_created", 50, "u1", properties={"taskId": "t2"}),
                ev("task_created", 40, "u2", properties={"task_id": "t3"}),
                ev("task_updated", 10, "u2", properties={"task_id": "t3", "status": "done"}),
            ]
        },
    )
    data = await client.data(
        "{ tasksPerUser(first: 1) { totalCount edges { node { userId created completed open avgCompletionSeconds } } pageInfo { hasNextPage endCursor } } }"
    )
    page = data["tasksPerUser"]
    assert page["totalCount"] == 2
    assert page["edges"][0]["node"] == {
        "userId": "u1",
        "created": 2,
        "completed": 1,
        "open": 1,
        "avgCompletionSeconds": 3600.0,
    }
    rest = await client.data(
        "query($after: String) { tasksPerUser(after: $after) { edges { node { userId avgCompletionSeconds } } pageInfo { hasNextPage } } }",
        {"after": page["pageInfo"]["endCursor"]},
    )
    assert rest["tasksPerUser"] == {
        "edges": [{"node": {"userId": "u2", "avgCompletionSeconds": 1800.0}}],
        "pageInfo": {"hasNextPage": False},
    }
    stats = await client.data(
        "{ taskStats { created completed open avgCompletionSeconds p50CompletionSeconds p95CompletionSeconds } }"
    )
    assert stats["taskStats"]["created"] == 3
    assert stats["taskStats"]["completed"] == 2
    assert stats["taskStats"]["open"] == 1
    assert stats["taskStats"]["avgCompletionSeconds"] == 2700.0


async def test_queries_also_work_over_get(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.get(
            "/graphql",
            params={"query": "{ dashboard { totalEvents } }"},
            headers={"GraphQL-Require-Preflight": "1"},  # a GET must show it is no forgery
        )
    assert response.status_code == 200
    assert response.json()["data"] == {"dashboard": {"totalEvents": 0}}


async def test_browsers_get_graphiql(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.get("/graphql", headers={"Accept": "text/html"})
    assert response.status_code == 200
    assert "graphiql" in response.text.lower()


async def test_health_and_readiness(server: ServerThread) -> None:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        health = await http.get("/health")
        ready = await http.get("/ready")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})
    assert (ready.status_code, ready.json()["status"]) == (200, "ready")


async def test_default_range_follows_the_clock(client: GraphQLClient, clock: Clock) -> None:
    await client.data(TRACK, {"inputs": [ev("a", 1)]})
    assert (await client.data("{ topEvents { count } }"))["topEvents"] == [{"count": 1}]
    clock.advance(timedelta(hours=25))
    assert (await client.data("{ topEvents { count } }"))["topEvents"] == []
