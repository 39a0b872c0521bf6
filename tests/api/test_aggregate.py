"""Any question over HTTP: breakdowns by properties and tags, measures of values, filters,
top groups with the rest as other, per-bucket points, and how each was read."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.test_queries import RANGE, RECORD, TRACK, ev
from tests.support import GraphQLClient

PURCHASES = [
    ev("purchase", 5, "u1", properties={"plan": "pro", "amount": 30}),
    ev("purchase", 6, "u2", properties={"plan": "pro", "amount": 10}),
    ev("purchase", 70, "u1", properties={"plan": "free", "amount": 5}),
    ev("purchase", 80, "u3", properties={"plan": "team", "amount": 100}),
    ev("signup", 7, "u4", properties={"plan": "pro"}),
]

REVENUE = """query($r: TimeRange, $where: Condition) {
  aggregate(of: EVENTS, names: ["purchase"], range: $r, where: $where,
            measures: [{op: COUNT}, {op: SUM, property: "amount"}, {op: DISTINCT_USERS}],
            groupBy: [{by: PROPERTY, key: "plan"}], limit: 2, withOther: true) {
    measures dimensions groups { key other values }
  }
}"""


async def test_revenue_by_plan_keeps_the_top_plans_and_merges_the_rest(
    client: GraphQLClient,
) -> None:
    await client.data(TRACK, {"inputs": PURCHASES})
    answer = (await client.data(REVENUE, {"r": RANGE}))["aggregate"]
    assert answer["measures"] == ["count", "sum(property:amount)", "distinct_users"]
    assert answer["dimensions"] == ["property:plan"]
    assert answer["groups"] == [
        {"key": ["pro"], "other": False, "values": [2.0, 40.0, 2.0]},
        {"key": ["free"], "other": False, "values": [1.0, 5.0, 1.0]},
        {"key": [None], "other": True, "values": [1.0, 100.0, 1.0]},
    ]


async def test_a_filter_keeps_only_the_records_it_matches(client: GraphQLClient) -> None:
    await client.data(TRACK, {"inputs": PURCHASES})
    where = {
        "any": [
            {"match": {"by": "PROPERTY", "key": "amount", "gte": 30}},
            {"match": {"by": "USER", "eq": "u2"}},
        ]
    }
    answer = (await client.data(REVENUE, {"r": RANGE, "where": where}))["aggregate"]
    assert [(g["key"], g["values"]) for g in answer["groups"]] == [
        (["pro"], [2.0, 40.0, 2.0]),
        (["team"], [1.0, 100.0, 1.0]),
    ]


async def test_a_metric_is_broken_down_by_tag_per_bucket(client: GraphQLClient) -> None:
    points = [
        {
            "name": "latency",
            "value": v,
            "tags": {"region": r},
            "occurredAt": ev("x", m)["occurredAt"],
        }
        for v, r, m in [(100, "eu", 5), (300, "eu", 6), (50, "us", 70)]
    ]
    await client.data(RECORD, {"inputs": points})
    data = await client.data(
        """query($r: TimeRange) { aggregate(of: METRICS, names: ["latency"], range: $r,
             interval: HOUR, measures: [{op: AVG}, {op: MAX}], groupBy: [{by: TAG, key: "region"}]) {
             groups { key values points { values } } } }""",
        {"r": RANGE},
    )
    eu, us = data["aggregate"]["groups"]
    assert (eu["key"], eu["values"]) == (["eu"], [200.0, 300.0])
    filled = [p["values"] for p in eu["points"] if p["values"] != [None, None]]
    assert filled == [[200.0, 300.0]]  # both points in one hour, every other hour empty
    assert len(eu["points"]) == len(us["points"]) >= 4
    assert (us["key"], us["values"]) == (["us"], [50.0, 50.0])


async def test_an_answer_says_how_it_was_read(client: GraphQLClient) -> None:
    body = await client.post(
        "{ aggregate(of: EVENTS, measures: [{op: COUNT}]) { groups { values } } }"
    )
    assert body["data"]["aggregate"]["groups"] == [{"values": [0.0]}]
    assert body["extensions"]["plan"] == [
        {"field": "aggregate", "source": "raw", "rollupRows": 0, "rawRows": 0}
    ]


async def test_counts_by_name_over_a_long_range_are_read_from_the_rollups(
    client: GraphQLClient,
) -> None:
    await client.data(TRACK, {"inputs": [ev("login", m) for m in range(1, 200)]})
    body = await client.post(
        """{ aggregate(of: EVENTS, measures: [{op: COUNT}], groupBy: [{by: NAME}],
             range: {last: "3h"}) { groups { key values } } }"""
    )
    assert body["data"]["aggregate"]["groups"] == [{"key": ["login"], "values": [180.0]}]
    (plan,) = body["extensions"]["plan"]
    assert plan["source"] == "rollups"
    assert plan["rollupRows"] < plan["rawRows"] == 199


async def test_a_breakdown_by_user_is_read_from_the_raw_records(client: GraphQLClient) -> None:
    await client.data(TRACK, {"inputs": [ev("login", m, f"u{m % 3}") for m in range(1, 30)]})
    body = await client.post(
        """{ aggregate(of: EVENTS, measures: [{op: COUNT}], groupBy: [{by: USER}],
             range: {last: "3h"}) { groups { key values } } }"""
    )
    assert [g["values"] for g in body["data"]["aggregate"]["groups"]] == [[10.0], [10.0], [9.0]]
    (plan,) = body["extensions"]["plan"]
    assert (plan["source"], plan["rollupRows"]) == ("raw", None)


async def test_a_measure_without_the_numbers_it_needs_is_a_coded_error(
    client: GraphQLClient,
) -> None:
    error = await client.error("{ aggregate(of: EVENTS, measures: [{op: AVG}]) { measures } }")
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert "AVG needs a numeric field" in error["message"]


@pytest.mark.parametrize(
    "where",
    [
        {"match": {"by": "PROPERTY", "key": "n", "eq": 10**400}},
        {"match": {"by": "PROPERTY", "key": "n", "in": [10**400]}},
    ],
    ids=["eq a huge integer", "in a huge integer"],
)
async def test_an_integer_too_large_to_compare_is_a_coded_error(
    client: GraphQLClient, where: dict[str, Any]
) -> None:
    body = await client.post(
        """query($r: TimeRange, $where: Condition) { aggregate(of: EVENTS, range: $r,
             where: $where, measures: [{op: COUNT}]) { groups { values } } }""",
        {"r": RANGE, "where": where},
    )
    assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body
