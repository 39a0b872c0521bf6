"""A ``Calendar``'s buckets as an aggregation expression over a rollup document's ``bucket_start``,
asking no time zone of the server."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from gql_analytics.domain.calendar import Calendar, Piece
from gql_analytics.domain.timerange import EPOCH, Interval, TimeRange

BUCKET_START = "$bucket_start"
DAY_MS = 86_400_000
MONDAY_MS = 4 * DAY_MS  # 1970-01-05, a Monday: where ISO weeks are counted from


def bucket_expression(calendar: Calendar, time_range: TimeRange) -> Any:
    """The start (a Date) of the bucket holding a document of the range, as ``calendar.floor``
    gives it: arithmetic on the local clock, one branch per stretch of constant offset the range
    spans (``Calendar.pieces``), the zone's rules being Python's, not the server's."""
    pieces = calendar.pieces(time_range)
    starts = [_within(calendar.interval, piece) for piece in pieces]
    if len(starts) == 1:
        return starts[0]
    branches = [
        {"case": {"$lt": [BUCKET_START, piece.end]}, "then": start}
        for piece, start in zip(pieces[:-1], starts[:-1], strict=True)
    ]
    return {"$switch": {"branches": branches, "default": starts[-1]}}


def _within(interval: Interval, piece: Piece) -> Any:
    offset = piece.offset // timedelta(milliseconds=1)
    local = {"$add": [{"$subtract": [BUCKET_START, EPOCH]}, offset]}  # ms on the local clock
    width = interval.clock_width
    if width is not None:
        start = _date(_floored(local, width // timedelta(milliseconds=1)), offset)
    elif interval is Interval.MONTH:
        month = {"$dateTrunc": {"date": {"$add": [EPOCH, local]}, "unit": "month"}}
        start = {"$subtract": [month, offset]}
    elif interval is Interval.WEEK:
        since_monday = {"$subtract": [local, MONDAY_MS]}
        start = _date({"$add": [_floored(since_monday, 7 * DAY_MS), MONDAY_MS]}, offset)
    else:
        start = _date(_floored(local, DAY_MS), offset)
    if piece.first_end <= piece.start:
        return start
    return {"$cond": [{"$lt": [BUCKET_START, piece.first_end]}, piece.first_start, start]}


def _floored(ms: Any, width: int) -> Any:
    return {"$multiply": [{"$floor": {"$divide": [ms, width]}}, width]}


def _date(local_ms: Any, offset: int) -> Any:
    """The moment whose local clock reads ``local_ms`` under ``offset``, as a Date."""
    return {"$add": [EPOCH, {"$subtract": [local_ms, offset]}]}
