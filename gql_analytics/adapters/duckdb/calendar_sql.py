"""A ``Calendar``'s buckets in DuckDB SQL: ``bucket_sql`` gives, for any naive-UTC TIMESTAMP
expression, the naive-UTC start of its bucket, exactly as ``Calendar.floor`` does."""

from __future__ import annotations

from datetime import datetime

from gql_analytics.domain.calendar import Calendar, Piece
from gql_analytics.domain.timerange import Interval, TimeRange

_TRUNCATE = {
    Interval.MINUTE: "date_trunc('minute', {})",
    Interval.FIVE_MINUTES: "time_bucket(INTERVAL 5 MINUTE, {})",
    Interval.FIFTEEN_MINUTES: "time_bucket(INTERVAL 15 MINUTE, {})",
    Interval.HOUR: "date_trunc('hour', {})",
    Interval.DAY: "date_trunc('day', {})",
    Interval.WEEK: "date_trunc('week', {})",  # ISO: from Monday
    Interval.MONTH: "date_trunc('month', {})",
}


def bucket_sql(column: str, calendar: Calendar, time_range: TimeRange) -> str:
    """SQL for the start of ``calendar``'s bucket holding ``column``, a naive-UTC TIMESTAMP (any
    expression), as a naive-UTC TIMESTAMP; exact for the moments of ``time_range``.

    Plain arithmetic, one branch per stretch of constant offset the range spans
    (``Calendar.pieces``): one for UTC, an ``Etc/`` zone, or a range without a DST change. The
    zone's rules are Python's (``zoneinfo``), never DuckDB's ICU, whose own copy of the tz
    database can disagree (America/Havana from November 2026, for one): a row must land in a
    bucket the calendar lists.
    """
    pieces = calendar.pieces(time_range)
    starts = [_within(column, calendar.interval, piece) for piece in pieces]
    if len(starts) == 1:
        return starts[0]
    branches = " ".join(
        f"WHEN {column} < {_timestamp(piece.end)} THEN {start}"
        for piece, start in zip(pieces[:-1], starts[:-1], strict=True)
    )
    return f"(CASE {branches} ELSE {starts[-1]} END)"


def _within(column: str, interval: Interval, piece: Piece) -> str:
    truncate = _TRUNCATE[interval].format
    if piece.offset:
        offset = f"INTERVAL ({int(piece.offset.total_seconds())}) SECOND"
        start = f"({truncate(f'({column} + {offset})')} - {offset})"
    else:
        start = truncate(column)
    if piece.first_end <= piece.start:
        return start
    return (
        f"(CASE WHEN {column} < {_timestamp(piece.first_end)} "
        f"THEN {_timestamp(piece.first_start)} ELSE {start} END)"
    )


def _timestamp(moment: datetime) -> str:
    return f"TIMESTAMP '{moment.replace(tzinfo=None).isoformat(sep=' ')}'"
