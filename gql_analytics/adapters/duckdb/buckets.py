"""Which rollup rows serve a range, and which output bucket each row falls in (SQL pieces)."""

from __future__ import annotations

from datetime import datetime

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.values import Params, micros, naive
from gql_analytics.domain.timerange import EPOCH, WEEK_ORIGIN, Interval, TimeRange, segments


class Bucketing:
    """SQL that maps a rollup row to its output bucket and keeps only the range's rows."""

    def __init__(self, time_range: TimeRange, interval: Interval | None) -> None:
        self.interval = interval
        self.origin = WEEK_ORIGIN if interval is Interval.WEEK else EPOCH
        self.pieces = list(segments(time_range, interval or Interval.HOUR))

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
    def index_sql(self) -> str:
        if self.interval is None:
            return "0"
        origin_us = micros(self.origin - EPOCH)
        return f"(epoch_us(bucket_start) - {origin_us}) // {micros(self.interval.value)}"

    def bucket_of(self, index: int | None) -> datetime | None:
        """The output bucket of an index; ``None`` (the whole range) for the grand total."""
        if self.interval is None or index is None:
            return None
        return self.origin + index * self.interval.value
