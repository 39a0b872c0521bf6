from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gql_analytics.domain.timerange import (
    LEVELS,
    MINUTE,
    TimeRange,
    floor_to,
    parse_last,
    segments,
)
from gql_analytics.errors import InvalidRange

NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("15m", timedelta(minutes=15)),
        ("24h", timedelta(hours=24)),
        ("7d", timedelta(days=7)),
        ("2w", timedelta(weeks=2)),
    ],
)
def test_last_accepts_minutes_hours_days_and_weeks(text: str, expected: timedelta) -> None:
    assert parse_last(text) == expected


@pytest.mark.parametrize("text", ["", "15", "m", "1y", "-5m", "0h", "1.5h", "15 minutes"])
def test_bad_last_strings_are_refused(text: str) -> None:
    with pytest.raises(InvalidRange, match="last"):
        parse_last(text)


def test_default_range_is_the_last_24_hours() -> None:
    resolved = TimeRange.resolve(now=NOW)
    assert (resolved.start, resolved.end, resolved.sliding) == (
        NOW - timedelta(hours=24),
        NOW,
        True,
    )


def test_range_with_from_after_to_is_refused() -> None:
    with pytest.raises(InvalidRange, match="before"):
        TimeRange.resolve(start=NOW, end=NOW, now=NOW)


def test_from_and_last_together_are_refused() -> None:
    with pytest.raises(InvalidRange):
        TimeRange.resolve(start=NOW - timedelta(hours=1), last="1h", now=NOW)


minutes = st.integers(min_value=0, max_value=60 * 24 * 20)


@given(minutes, st.integers(min_value=1, max_value=60 * 24 * 10), st.sampled_from(LEVELS))
def test_segments_cover_the_range_exactly_once(
    offset: int, length: int, coarsest: timedelta
) -> None:
    start = datetime(2026, 1, 1, tzinfo=UTC) + offset * MINUTE
    window = TimeRange(start, start + length * MINUTE)
    pieces = list(segments(window, coarsest))
    assert pieces[0].start == window.start
    assert pieces[-1].end == window.end
    for before, after in itertools.pairwise(pieces):
        assert before.end == after.start
    for piece in pieces:
        assert floor_to(piece.start, piece.level) == piece.start
        assert floor_to(piece.end, piece.level) == piece.end
        assert piece.level in (coarsest, MINUTE)
