"""``bucket_sql`` puts every moment of its range in the bucket ``Calendar.floor`` does, for every
interval, in zones with DST changes of an hour and of half an hour, half- and quarter-hour
offsets, and midnights that happen twice or not at all."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gql_analytics.adapters.duckdb.calendar_sql import bucket_sql
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.timerange import Interval, TimeRange
from tests.domain.zones import around_transitions


@pytest.fixture(scope="module")
def connection() -> Iterator[duckdb.DuckDBPyConnection]:
    with duckdb.connect() as connection:
        connection.execute("SET TimeZone = 'Pacific/Chatham'")  # the session's zone plays no part
        yield connection


def floors_in_sql(
    connection: duckdb.DuckDBPyConnection, calendar: Calendar, moments: list[datetime]
) -> list[datetime]:
    range_ = TimeRange(min(moments), max(moments) + timedelta(microseconds=1))
    rows = connection.execute(
        f"SELECT {bucket_sql('moment', calendar, range_)} FROM unnest(?::TIMESTAMP[]) AS t(moment)",
        [[m.replace(tzinfo=None) for m in moments]],
    ).fetchall()
    return [start.replace(tzinfo=UTC) for (start,) in rows]


@settings(max_examples=150, deadline=None)
@given(around_transitions(), st.sampled_from(list(Interval)), st.integers(1, 10**9))
def test_bucket_sql_is_calendar_floor(
    connection: duckdb.DuckDBPyConnection,
    start: tuple[ZoneInfo, datetime],
    interval: Interval,
    step_us: int,
) -> None:
    zone, moment = start
    calendar = Calendar(interval, zone)
    # A day either side of the moment, in uneven steps (from a microsecond to 17 minutes).
    step = timedelta(microseconds=step_us % (17 * 60 * 10**6) + 1)
    moments = [moment + k * step for k in range(-120, 121)]
    moments += [moment + k * timedelta(minutes=11) for k in range(-131, 132)]
    assert floors_in_sql(connection, calendar, moments) == [calendar.floor(m) for m in moments]


@pytest.mark.parametrize("zone", ["UTC", "Etc/GMT-5", "Etc/GMT+3"])
@pytest.mark.parametrize("interval", list(Interval))
def test_fixed_offset_zones_need_no_branch_and_agree(
    connection: duckdb.DuckDBPyConnection, zone: str, interval: Interval
) -> None:
    calendar = Calendar(interval, ZoneInfo(zone))
    moments = [datetime(1969, 12, 28, tzinfo=UTC) + k * timedelta(minutes=97) for k in range(900)]
    assert "CASE" not in bucket_sql("moment", calendar, TimeRange(moments[0], moments[-1]))
    assert floors_in_sql(connection, calendar, moments) == [calendar.floor(m) for m in moments]


def test_havana_follows_python_s_tz_database_not_icu_s(
    connection: duckdb.DuckDBPyConnection,
) -> None:
    # DuckDB's ICU keeps Cuba on summer time after 1 November 2026; zoneinfo does not.
    days = Calendar(Interval.DAY, ZoneInfo("America/Havana"))
    moments = [datetime(2026, 11, 2, 4, 30, tzinfo=UTC), datetime(2026, 11, 2, 10, tzinfo=UTC)]
    assert floors_in_sql(connection, days, moments) == [
        datetime(2026, 11, 1, 4, tzinfo=UTC),
        datetime(2026, 11, 2, 5, tzinfo=UTC),
    ]
