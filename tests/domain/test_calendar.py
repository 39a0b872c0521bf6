from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gql_analytics.domain.calendar import Calendar, time_zone, whole_local_days
from gql_analytics.domain.offsets import offset_at, stretches
from gql_analytics.domain.timerange import HOUR, MINUTE, Interval, TimeRange
from gql_analytics.errors import InvalidInput, InvalidRange
from tests.domain.zones import around_transitions

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
KOLKATA = ZoneInfo("Asia/Kolkata")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_a_utc_week_starts_on_monday() -> None:
    assert Calendar(Interval.WEEK).floor(utc(2026, 11, 20, 12)) == utc(2026, 11, 16)


def test_the_day_clocks_spring_forward_is_23_hours_long() -> None:
    days = Calendar(Interval.DAY, NEW_YORK)
    range_ = TimeRange(utc(2026, 3, 7, 5), utc(2026, 3, 10, 4))
    assert days.buckets(range_) == [utc(2026, 3, 7, 5), utc(2026, 3, 8, 5), utc(2026, 3, 9, 4)]
    assert days.floor(utc(2026, 3, 9, 3, 59)) == utc(2026, 3, 8, 5)


def test_the_hour_repeated_when_clocks_go_back_is_two_buckets() -> None:
    hours = Calendar(Interval.HOUR, BERLIN)
    first, second = utc(2026, 10, 25, 0, 30), utc(2026, 10, 25, 1, 30)  # both 02:30 local
    assert (hours.floor(first), hours.floor(second)) == (utc(2026, 10, 25), utc(2026, 10, 25, 1))


def test_hours_of_a_half_hour_zone_start_at_half_past_in_utc() -> None:
    hours = Calendar(Interval.HOUR, KOLKATA)
    assert hours.floor(utc(2026, 11, 20, 12, 10)) == utc(2026, 11, 20, 11, 30)
    assert Calendar(Interval.DAY, KOLKATA).floor(utc(2026, 11, 20, 20)) == utc(2026, 11, 20, 18, 30)


def test_a_month_starts_at_local_midnight_of_its_first_day() -> None:
    months = Calendar(Interval.MONTH, BERLIN)
    range_ = TimeRange(utc(2026, 2, 10), utc(2026, 4, 2))
    assert months.buckets(range_) == [
        utc(2026, 1, 31, 23),
        utc(2026, 2, 28, 23),
        utc(2026, 3, 31, 22),
    ]


def test_a_thirty_minute_dst_change_gives_a_short_hour() -> None:
    # Lord Howe springs from 02:00 (+10:30) to 02:30 (+11) at 15:30 UTC: the hour of local 02:00
    # holds only the half hour from 02:30.
    hours = Calendar(Interval.HOUR, LORD_HOWE)
    range_ = TimeRange(utc(2026, 10, 3, 14, 30), utc(2026, 10, 3, 17))
    assert hours.buckets(range_) == [
        utc(2026, 10, 3, 14, 30),
        utc(2026, 10, 3, 15),
        utc(2026, 10, 3, 16),
    ]
    assert hours.floor(utc(2026, 10, 3, 15, 45)) == utc(2026, 10, 3, 15)


def test_unknown_time_zone_is_a_coded_input_error() -> None:
    with pytest.raises(InvalidInput) as refused:
        time_zone("Mars/Olympus_Mons")
    assert refused.value.field == "timeZone"
    assert time_zone(None) == time_zone("UTC") == ZoneInfo("UTC")
    assert time_zone("Asia/Kathmandu") == ZoneInfo("Asia/Kathmandu")


@pytest.mark.parametrize("name", ["", "../etc/passwd", "localtime", "America"])
def test_names_that_are_no_zone_are_refused(name: str) -> None:
    with pytest.raises(InvalidInput, match="timeZone"):
        time_zone(name)


def test_too_many_buckets_is_refused() -> None:
    with pytest.raises(InvalidRange, match="coarser"):
        Calendar(Interval.MINUTE).buckets(TimeRange(utc(2026, 1, 1), utc(2026, 3, 1)))


def test_last_seven_days_as_whole_local_days_starts_at_local_midnight() -> None:
    now = utc(2026, 3, 10, 15, 20)  # 11:20 in New York, two days after clocks sprang forward
    rolling = TimeRange.resolve(last="7d", now=now)
    whole = whole_local_days(rolling, NEW_YORK)
    assert (whole.start, whole.end, whole.sliding) == (utc(2026, 3, 4, 5), now, True)
    assert len(Calendar(Interval.DAY, NEW_YORK).buckets(whole)) == 7


def test_whole_local_days_ending_at_midnight_end_with_the_day_before() -> None:
    end = utc(2026, 3, 9, 4)  # midnight in New York
    whole = whole_local_days(TimeRange(end - timedelta(days=2), end), NEW_YORK)
    assert whole.start == utc(2026, 3, 7, 5)


def test_whole_local_days_need_a_whole_number_of_days() -> None:
    with pytest.raises(InvalidRange, match="whole number of days"):
        whole_local_days(TimeRange.resolve(last="36h", now=utc(2026, 3, 10)), NEW_YORK)


@settings(max_examples=60, deadline=None)
@given(around_transitions(), st.integers(min_value=1, max_value=3 * 24 * 60))
def test_offset_stretches_match_the_offset_of_every_minute(
    start: tuple[ZoneInfo, datetime], minutes: int
) -> None:
    zone, moment = start
    moment = moment.replace(second=0, microsecond=0)
    pieces = stretches(zone, moment, moment + minutes * MINUTE)
    assert pieces[0].start == moment
    assert pieces[-1].end == moment + minutes * MINUTE
    for piece in pieces:
        at = piece.start
        while at < piece.end:
            assert offset_at(zone, at) == piece.offset
            at += MINUTE


@settings(max_examples=80, deadline=None)
@given(
    around_transitions(),
    st.integers(min_value=1, max_value=2 * 24 * 60),
    st.sampled_from(list(Interval)),
)
def test_buckets_are_the_floors_of_every_minute_of_the_range(
    start: tuple[ZoneInfo, datetime], minutes: int, interval: Interval
) -> None:
    zone, moment = start
    moment = moment.replace(second=0, microsecond=0)
    calendar = Calendar(interval, zone)
    range_ = TimeRange(moment, moment + minutes * MINUTE)
    floors = {calendar.floor(moment + i * MINUTE) for i in range(minutes)}
    assert calendar.buckets(range_) == sorted(floors)


@settings(max_examples=80, deadline=None)
@given(
    around_transitions(),
    st.integers(min_value=60, max_value=3 * 24 * 60),
    st.sampled_from(list(Interval)),
)
def test_every_rollup_row_a_calendar_uses_lies_inside_one_bucket(
    start: tuple[ZoneInfo, datetime], minutes: int, interval: Interval
) -> None:
    zone, moment = start
    moment = moment.replace(second=0, microsecond=0)
    calendar = Calendar(interval, zone)
    range_ = TimeRange(moment, moment + minutes * MINUTE)
    for piece in calendar.segments(range_):
        row = piece.start
        while row < piece.end:
            last = row + piece.level - timedelta(microseconds=1)
            assert calendar.floor(row) == calendar.floor(last)
            row += piece.level


@pytest.mark.parametrize(
    ("zone", "interval", "level"),
    [
        ("UTC", Interval.DAY, HOUR),
        ("Europe/Berlin", Interval.MONTH, HOUR),
        ("Europe/Berlin", Interval.FIFTEEN_MINUTES, MINUTE),
        ("Asia/Kolkata", Interval.HOUR, MINUTE),
        ("Australia/Lord_Howe", Interval.DAY, MINUTE),
    ],
)
def test_hour_rows_serve_only_zones_a_whole_number_of_hours_off_utc(
    zone: str, interval: Interval, level: timedelta
) -> None:
    range_ = TimeRange(utc(2026, 3, 1), utc(2026, 11, 1))
    assert Calendar(interval, ZoneInfo(zone)).rollup_level(range_) == level


def test_a_zone_offset_by_seconds_is_refused_rather_than_miscounted() -> None:
    monrovia = Calendar(Interval.DAY, ZoneInfo("Africa/Monrovia"))  # -0:44:30 until 1972
    with pytest.raises(InvalidRange, match="timeZone"):
        monrovia.rollup_level(TimeRange(utc(1960, 1, 1), utc(1960, 2, 1)))


@pytest.mark.parametrize("interval", list(Interval))
def test_only_the_utc_and_etc_zones_count_as_fixed(interval: Interval) -> None:
    assert Calendar(interval).fixed_offset == timedelta(0)
    assert Calendar(interval, ZoneInfo("Etc/GMT-5")).fixed_offset == timedelta(hours=5)
    assert Calendar(interval, NEW_YORK).fixed_offset is None
