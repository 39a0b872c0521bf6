"""Series drawn in a time zone: local days across DST changes, months, half-hour zones, whole
local days for ``last``, and coded refusals of names that are no zone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.support import Clock, GraphQLClient, iso

TRACK = "mutation($inputs: [EventInput!]!) { trackEvents(inputs: $inputs) { accepted } }"
COUNTS = """query($range: TimeRange, $interval: Interval, $zone: String) {
  eventCounts(names: ["login"], range: $range, interval: $interval, timeZone: $zone) {
    total points { bucket count }
  }
}"""


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


async def track(client: GraphQLClient, *moments: datetime, user: str = "u1") -> None:
    inputs = [{"name": "login", "userId": user, "occurredAt": iso(m)} for m in moments]
    assert (await client.data(TRACK, {"inputs": inputs}))["trackEvents"]["accepted"] == len(inputs)


def points(data: dict[str, Any]) -> list[tuple[str, int]]:
    (series,) = data["eventCounts"]
    return [(p["bucket"], p["count"]) for p in series["points"]]


async def test_new_york_days_count_the_23_hour_day_of_the_march_change(
    client: GraphQLClient, clock: Clock
) -> None:
    clock.now = utc(2026, 3, 10, 12)
    await track(
        client,
        utc(2026, 3, 8, 4, 30),  # Saturday 23:30 EST
        utc(2026, 3, 8, 5, 30),  # Sunday 00:30 EST
        utc(2026, 3, 9, 3, 30),  # Sunday 23:30 EDT: still Sunday, which had 23 hours
        utc(2026, 3, 9, 4, 30),  # Monday 00:30 EDT
    )
    data = await client.data(
        COUNTS,
        {
            "range": {"from": "2026-03-07T05:00:00Z", "to": "2026-03-10T04:00:00Z"},
            "interval": "DAY",
            "zone": "America/New_York",
        },
    )
    assert points(data) == [
        ("2026-03-07T05:00:00Z", 1),
        ("2026-03-08T05:00:00Z", 2),
        ("2026-03-09T04:00:00Z", 1),
    ]


async def test_a_month_starts_at_local_midnight_of_its_first_day(
    client: GraphQLClient, clock: Clock
) -> None:
    clock.now = utc(2026, 4, 2)
    await track(client, utc(2026, 2, 28, 22, 30), utc(2026, 2, 28, 23, 30))  # Feb, then March
    data = await client.data(
        COUNTS,
        {
            "range": {"from": "2026-02-01T00:00:00Z", "to": "2026-04-01T00:00:00Z"},
            "interval": "MONTH",
            "zone": "Europe/Berlin",
        },
    )
    assert points(data) == [
        ("2026-01-31T23:00:00Z", 1),
        ("2026-02-28T23:00:00Z", 1),
        ("2026-03-31T22:00:00Z", 0),
    ]


async def test_hours_of_kolkata_start_at_half_past_in_utc(
    client: GraphQLClient, clock: Clock
) -> None:
    clock.now = utc(2026, 11, 20, 12, 10)
    await track(client, utc(2026, 11, 20, 11, 20), utc(2026, 11, 20, 11, 40))
    data = await client.data(
        COUNTS, {"range": {"last": "1h"}, "interval": "HOUR", "zone": "Asia/Kolkata"}
    )
    assert points(data) == [("2026-11-20T10:30:00Z", 1), ("2026-11-20T11:30:00Z", 1)]


async def test_last_seven_days_as_whole_local_days(client: GraphQLClient, clock: Clock) -> None:
    clock.now = utc(2026, 3, 10, 15, 20)  # 11:20 in New York
    await track(client, utc(2026, 3, 4, 4, 59), utc(2026, 3, 4, 5), user="u2")
    data = await client.data(
        """{ activeUsers(range: {last: "7d", wholeDays: true}, timeZone: "America/New_York")
             { total points { bucket count } } }"""
    )
    buckets = data["activeUsers"]["points"]
    assert len(buckets) == 7
    assert buckets[0] == {"bucket": "2026-03-04T05:00:00Z", "count": 1}  # the 04:59 is before
    assert buckets[-1]["bucket"] == "2026-03-10T04:00:00Z"


async def test_an_unknown_time_zone_is_a_coded_input_error(client: GraphQLClient) -> None:
    error = await client.error(COUNTS, {"zone": "Europe/Atlantis"})
    assert error["extensions"]["code"] == "BAD_USER_INPUT"
    assert error["extensions"]["field"] == "timeZone"
    assert "Europe/Atlantis" in error["message"]


async def test_a_null_time_zone_is_utc(client: GraphQLClient, clock: Clock) -> None:
    clock.now = utc(2026, 3, 10, 12)
    await track(client, utc(2026, 3, 9, 3, 30))
    range_ = {"from": "2026-03-09T00:00:00Z", "to": "2026-03-10T00:00:00Z"}
    data = await client.data(COUNTS, {"range": range_, "interval": "DAY", "zone": None})
    assert points(data) == [("2026-03-09T00:00:00Z", 1)]


async def test_a_breakdown_per_local_day_splits_at_local_midnight_on_the_raw_plan(
    client: GraphQLClient, clock: Clock
) -> None:
    clock.now = utc(2026, 3, 10, 12)
    await track(client, utc(2026, 3, 8, 4, 30), utc(2026, 3, 8, 5, 30), user="u1")
    await track(client, utc(2026, 3, 9, 3, 59), utc(2026, 3, 9, 4, 1), user="u2")
    body = await client.post(
        """query($r: TimeRange) { aggregate(of: EVENTS, measures: [{op: DISTINCT_USERS}],
             range: $r, interval: DAY, timeZone: "America/New_York") {
             groups { points { start values } } } }""",
        {"r": {"from": iso(utc(2026, 3, 7, 5)), "to": iso(utc(2026, 3, 10, 4))}},
    )
    (group,) = body["data"]["aggregate"]["groups"]
    assert [(p["start"], p["values"]) for p in group["points"]] == [
        (iso(utc(2026, 3, 7, 5)), [1.0]),  # Saturday: the 23:30 login
        (iso(utc(2026, 3, 8, 5)), [2.0]),  # Sunday, 23 hours: u1 at 00:30, u2 at 23:59 EDT
        (iso(utc(2026, 3, 9, 4)), [1.0]),  # Monday: u2 just after midnight
    ]
    assert body["extensions"]["plan"][0]["source"] == "raw"


async def test_retention_periods_are_local_days_across_the_march_change(
    client: GraphQLClient, clock: Clock
) -> None:
    clock.now = utc(2026, 3, 12)
    inputs = [
        {"name": "signup", "userId": "u1", "occurredAt": iso(utc(2026, 3, 7, 15))},
        # Sunday 23:30 EDT, the 23-hour day: period 1 in New York, Monday in UTC.
        {"name": "login", "userId": "u1", "occurredAt": iso(utc(2026, 3, 9, 3, 30))},
    ]
    assert (await client.data(TRACK, {"inputs": inputs}))["trackEvents"]["accepted"] == 2
    query = """query($zone: String) { retention(cohort: {name: "signup"}, returning: {name: "login"},
        range: {from: "2026-03-07T05:00:00Z", to: "2026-03-11T04:00:00Z"}, interval: DAY,
        timeZone: $zone, periods: 3) { cohorts { start periods { start users } } } }"""
    (local,) = (await client.data(query, {"zone": "America/New_York"}))["retention"]["cohorts"]
    assert local["start"] == iso(utc(2026, 3, 7, 5))
    assert [(p["start"], p["users"]) for p in local["periods"]] == [
        (iso(utc(2026, 3, 7, 5)), 0),
        (iso(utc(2026, 3, 8, 5)), 1),
        (iso(utc(2026, 3, 9, 4)), 0),
    ]
    (in_utc,) = (await client.data(query, {"zone": "UTC"}))["retention"]["cohorts"]
    assert [p["users"] for p in in_utc["periods"]] == [0, 0, 1]
