"""Which rollup rows serve a range, and which output bucket each row falls in (SQL pieces)."""

from __future__ import annotations

from datetime import datetime

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.calendar_sql import bucket_sql
from gql_analytics.adapters.duckdb.values import Params, aware, naive
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.timerange import TimeRange, segments


class Bucketing:
    """SQL that maps a rollup row to its output bucket and keeps only the range's rows; with no
    calendar, the whole range is the one bucket."""

    def __init__(self, time_range: TimeRange, calendar: Calendar | None) -> None:
        self.calendar = calendar
        self.time_range = time_range
        self.pieces = (
            list(segments(time_range)) if calendar is None else calendar.segments(time_range)
        )

    def rows(self, family: str, columns: str, where: str, params: Params) -> tuple[str, Params]:
        """The rows of each segment, read from its level's table of ``family``, as one relation
        (SQL and its parameters); ``where`` with ``params`` narrows every segment alike."""
        selects = " UNION ALL ".join(
            f"SELECT {columns} FROM {family}_{sql.LEVEL_NAMES[piece.level]} "
            f"WHERE {where} AND bucket_start >= ? AND bucket_start < ?"
            for piece in self.pieces
        )
        bounds = [
            p for piece in self.pieces for p in (*params, naive(piece.start), naive(piece.end))
        ]
        return selects, bounds

    @property
    def bucket_sql(self) -> str:
        """A row's output bucket start (a constant without a calendar)."""
        if self.calendar is None:
            return "TIMESTAMP '1970-01-01'"
        return bucket_sql("bucket_start", self.calendar, self.time_range)

    def bucket_of(self, start: datetime | None) -> datetime | None:
        """The output bucket of a row read back; ``None`` (the whole range) for the grand total."""
        if self.calendar is None or start is None:
            return None
        return aware(start)
