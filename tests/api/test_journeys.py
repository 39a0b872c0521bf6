"""Funnels and retention over HTTP against a real uvicorn server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from tests.support import NOW, GraphQLClient, iso

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"
FUNNEL = """
query($steps: [JourneyStep!]!, $window: String) {
  funnel(steps: $steps, range: {last: "6h"}, window: $window) {
    entered windowSeconds
    steps { name users conversionFromPrevious conversionFromFirst medianSecondsFromEntry
            p95SecondsFromEntry }
  }
}
"""
RETENTION = """
query($periods: Int) {
  retention(cohort: {name: "signup"}, returning: {name: "login"},
            range: {from: "2026-11-17T00:00:00Z", to: "2026-11-20T12:00:00Z"},
            interval: DAY, periods: $periods) {
    interval
    cohorts { start users periods { period start users share } }
  }
}
"""
STEPS = [
    {"name": "view"},
    {"name": "cart", "where": {"match": {"by": "PROPERTY", "key": "plan", "eq": "pro"}}},
    {"name": "buy"},
]


def ev(name: str, minutes_ago: float, user: str, **properties: Any) -> dict[str, Any]:
    occurred = iso(NOW - timedelta(minutes=minutes_ago))
    return {"name": name, "userId": user, "occurredAt": occurred, "properties": properties}


async def test_a_funnel_counts_users_through_its_steps(client: GraphQLClient) -> None:
    await client.data(
        TRACK,
        {
            "inputs": [
                ev("view", 120, "a"),
                ev("cart", 110, "a", plan="pro"),
                ev("buy", 90, "a"),
                ev("view", 120, "b"),
                ev("cart", 100, "b", plan="free"),  # the filter keeps b out of the cart step
                ev("buy", 90, "b"),
                ev("view", 100, "c"),
                ev("cart", 80, "c", plan="pro"),
            ]
        },
    )
    funnel = (await client.data(FUNNEL, {"steps": STEPS, "window": "1h"}))["funnel"]
    assert funnel["entered"] == 3
    assert funnel["windowSeconds"] == 3600.0
    assert funnel["steps"] == [
        {
            "name": "view",
            "users": 3,
            "conversionFromPrevious": 1.0,
            "conversionFromFirst": 1.0,
            "medianSecondsFromEntry": 0.0,
            "p95SecondsFromEntry": 0.0,
        },
        {
            "name": "cart",
            "users": 2,
            "conversionFromPrevious": 2 / 3,
            "conversionFromFirst": 2 / 3,
            "medianSecondsFromEntry": 600.0,
            "p95SecondsFromEntry": 1200.0,
        },
        {
            "name": "buy",
            "users": 1,
            "conversionFromPrevious": 0.5,
            "conversionFromFirst": 1 / 3,
            "medianSecondsFromEntry": 1800.0,
            "p95SecondsFromEntry": 1800.0,
        },
    ]


async def test_a_funnel_answer_changes_when_its_events_do(client: GraphQLClient) -> None:
    steps = [{"name": "view"}, {"name": "buy"}]
    await client.data(TRACK, {"inputs": [ev("view", 30, "a")]})
    first = await client.post(FUNNEL, {"steps": steps})
    assert [s["users"] for s in first["data"]["funnel"]["steps"]] == [1, 0]
    assert (await client.post(FUNNEL, {"steps": steps}))["extensions"]["cache"] == "hit"
    await client.data(TRACK, {"inputs": [ev("buy", 20, "a")]})
    second = await client.post(FUNNEL, {"steps": steps})
    assert second["extensions"]["cache"] == "miss"
    assert [s["users"] for s in second["data"]["funnel"]["steps"]] == [1, 1]


async def test_a_daily_retention_table(client: GraphQLClient) -> None:
    day = 24 * 60
    noon = 12 * 60  # NOW is 2026-11-20T12:00:30Z
    await client.data(
        TRACK,
        {
            "inputs": [
                ev("signup", 3 * day + noon - 60, "a"),  # 2026-11-17 01:00
                ev("login", 2 * day + noon - 60, "a"),  # the next day
                ev("signup", 3 * day + noon - 120, "b"),  # 2026-11-17 02:00
                ev("signup", 2 * day + noon - 60, "c"),  # 2026-11-18
                ev("login", 2 * day + noon - 30, "c"),  # before c signed up: not a return
                ev("login", noon - 60, "c"),  # 2026-11-20, two days later
            ]
        },
    )
    table = (await client.data(RETENTION, {"periods": 4}))["retention"]
    assert table["interval"] == "DAY"
    assert [(c["start"], c["users"]) for c in table["cohorts"]] == [
        ("2026-11-17T00:00:00Z", 2),
        ("2026-11-18T00:00:00Z", 1),
    ]
    first, second = table["cohorts"]
    assert [(p["period"], p["users"], p["share"]) for p in first["periods"]] == [
        (0, 0, 0.0),
        (1, 1, 0.5),
        (2, 0, 0.0),
        (3, 0, 0.0),
    ]
    assert [(p["start"], p["users"], p["share"]) for p in second["periods"]] == [
        ("2026-11-18T00:00:00Z", 0, 0.0),
        ("2026-11-19T00:00:00Z", 0, 0.0),
        ("2026-11-20T00:00:00Z", 1, 1.0),
        ("2026-11-21T00:00:00Z", None, None),  # after the range's end: not observed
    ]


async def test_what_a_retention_costs_grows_with_its_periods(client: GraphQLClient) -> None:
    few, many = [
        (await client.post(RETENTION, {"periods": periods}))["extensions"]["cost"]
        for periods in (2, 20)
    ]
    assert many > 5 * few


async def test_questions_that_cannot_be_answered_are_coded_errors(client: GraphQLClient) -> None:
    one_step = await client.error(FUNNEL, {"steps": [{"name": "view"}]})
    assert one_step["extensions"] == {"code": "BAD_USER_INPUT", "field": "steps"}
    window = await client.error(FUNNEL, {"steps": STEPS, "window": "soon"})
    assert window["extensions"] == {"code": "BAD_USER_INPUT", "field": "window"}
    two_ops = {"match": {"by": "PROPERTY", "key": "plan", "eq": "pro", "ne": "free"}}
    both = [{"name": "view"}, {"name": "buy", "where": two_ops}]
    mixed = await client.error(FUNNEL, {"steps": both})
    assert mixed["extensions"] == {"code": "BAD_USER_INPUT", "field": "steps[1].where"}
    metric_only = {"match": {"by": "TAG", "key": "region", "eq": "eu"}}
    numeric = [{"name": "view"}, {"name": "buy", "where": metric_only}]
    assert (await client.error(FUNNEL, {"steps": numeric}))["extensions"]["field"] == (
        "steps[1].where"
    )
    periods = await client.error(RETENTION, {"periods": 0})
    assert periods["extensions"] == {"code": "BAD_USER_INPUT", "field": "periods"}
