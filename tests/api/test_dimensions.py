"""Declared dimensions over HTTP and from the command line: what splits the rollups, from when
the planner reads them for a question on a key, and that the answer is the same either way."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from gql_analytics import cli
from tests.api.test_queries import RECORD, TRACK, ev
from tests.support import Clock, GraphQLClient, iso

DECLARE = """mutation($of: RecordKind!, $keys: [String!]!) {
  declareDimensions(of: $of, keys: $keys) { of key declaredAt since }
}"""
BY_PLAN = """query($r: TimeRange) {
  aggregate(of: EVENTS, names: ["buy"], measures: [{op: COUNT}],
            groupBy: [{by: PROPERTY, key: "plan"}], range: $r) {
    groups { key values }
  }
}"""


async def test_a_declared_key_is_listed_with_the_hour_its_rollups_hold_it_from(
    client: GraphQLClient, clock: Clock
) -> None:
    fresh = await client.data(DECLARE, {"of": "EVENTS", "keys": ["device"]})
    assert fresh["declareDimensions"][0]["since"] == "1970-01-01T00:00:00Z"  # no event yet
    await client.data(TRACK, {"inputs": [ev("buy", 1)]})
    declared = await client.data(DECLARE, {"of": "EVENTS", "keys": ["plan", "country"]})
    assert [(d["of"], d["key"]) for d in declared["declareDimensions"]] == [
        ("EVENTS", "country"),
        ("EVENTS", "plan"),
    ]
    since = declared["declareDimensions"][0]["since"]
    assert since == iso((clock.now + timedelta(minutes=70)).replace(minute=0, second=0))
    listed = await client.data("{ dimensions { of key } }")
    assert listed["dimensions"] == [
        {"of": "EVENTS", "key": "country"},
        {"of": "EVENTS", "key": "plan"},
    ]


async def test_a_question_on_a_declared_key_is_read_from_rollups_after_it_settled(
    client: GraphQLClient, clock: Clock
) -> None:
    await client.data(TRACK, {"inputs": [ev("visit", 1)]})  # written before the declaration
    await client.data(DECLARE, {"of": "EVENTS", "keys": ["plan"]})
    clock.advance(timedelta(hours=2))
    ago = -120.0  # ev counts minutes before the suite's NOW; the clock is two hours on
    plans = ["pro", "pro", "free", 3]
    await client.data(
        TRACK,
        {"inputs": [ev("buy", ago + 1 + i, properties={"plan": p}) for i, p in enumerate(plans)]},
    )
    await client.data(
        TRACK, {"inputs": [ev("buy", ago + 30 + i / 10, user=f"u{i}") for i in range(200)]}
    )
    settled = {"from": iso(clock.now - timedelta(hours=1)), "to": iso(clock.now)}
    body = await client.post(BY_PLAN, {"r": settled})
    groups = [(g["key"], g["values"]) for g in body["data"]["aggregate"]["groups"]]
    assert groups == [([None], [200.0]), (["pro"], [2.0]), (["3"], [1.0]), (["free"], [1.0])]
    assert body["extensions"]["plan"][0]["source"] == "rollups"
    # Over a range that starts before the key had settled, the raw records answer, the same.
    before = {"from": iso(clock.now - timedelta(hours=3)), "to": iso(clock.now)}
    body = await client.post(BY_PLAN, {"r": before})
    assert [(g["key"], g["values"]) for g in body["data"]["aggregate"]["groups"]] == groups
    assert body["extensions"]["plan"][0]["source"] == "raw"


async def test_a_metric_grouped_by_an_undeclared_tag_keeps_its_answer(
    client: GraphQLClient,
) -> None:
    points = [
        {"name": "latency", "value": v, "tags": {"region": r, "request": str(i)}}
        for i, (v, r) in enumerate([(100.0, "eu"), (300.0, "eu"), (50.0, "us")])
    ]
    await client.data(RECORD, {"inputs": points})
    data = await client.data(
        """{ metric(name: "latency", tags: {region: "eu"}, groupByTag: "request") {
               count sum groups { tagValue count } } }"""
    )
    assert (data["metric"]["count"], data["metric"]["sum"]) == (2, 400.0)
    assert data["metric"]["groups"] == [
        {"tagValue": "0", "count": 1},
        {"tagValue": "1", "count": 1},
    ]


def test_declaring_needs_no_server(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"duckdb:///{tmp_path}/analytics.duckdb"
    declared = [
        "dimensions",
        "declare",
        "--store",
        store,
        "--events",
        "plan,country",
        "--metrics",
        "region",
    ]
    assert cli.main(declared) == 0
    assert cli.main(["dimensions", "list", "--store", store]) == 0
    out = capsys.readouterr().out
    assert "default  event   country" in out
    assert "default  metric  region" in out
    assert cli.main(["dimensions", "declare", "--store", store, "--events", ""]) == 0
    assert "event " not in capsys.readouterr().out


async def test_a_key_past_its_max_values_is_answered_exactly_from_raw_records(
    client: GraphQLClient,
) -> None:
    declared = await client.data(
        """mutation { declareDimensions(of: EVENTS, keys: ["plan"], maxValues: 2) {
             key maxValues overflowed } }"""
    )
    assert declared["declareDimensions"] == [{"key": "plan", "maxValues": 2, "overflowed": False}]
    plans = ["free", "pro", "team", "max", "team"]
    await client.data(
        TRACK, {"inputs": [ev("buy", 1 + i, properties={"plan": p}) for i, p in enumerate(plans)]}
    )
    listed = await client.data("{ dimensions { key overflowed } }")
    assert listed["dimensions"] == [{"key": "plan", "overflowed": True}]
    body = await client.post(BY_PLAN, {"r": {"last": "1h"}})
    groups = [(g["key"], g["values"]) for g in body["data"]["aggregate"]["groups"]]
    assert groups == [(["team"], [2.0]), (["free"], [1.0]), (["max"], [1.0]), (["pro"], [1.0])]
    assert body["extensions"]["plan"][0]["source"] == "raw"
