"""Time ranges, intervals and bucket arithmetic (all in UTC, half-open ranges)."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gql_analytics.errors import InvalidRange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# 1970-01-05 was a Monday: weeks start on Monday, as ISO 8601 has it.
WEEK_ORIGIN = datetime(1970, 1, 5, tzinfo=UTC)
MINUTE = timedelta(minutes=1)
HOUR = timedelta(hours=1)
DEFAULT_LAST = timedelta(hours=24)
MAX_POINTS = 20_000

# Rollup levels kept by every store, finest first. A range is served from the coarsest level whose
# buckets fit inside it, with the finer level filling the ragged edges.
LEVELS: tuple[timedelta, ...] = (MINUTE, HOUR)

_LAST_PATTERN = re.compile(r"^\s*(\d{1,6})\s*(m|h|d|w)\s*$")
_LAST_UNITS = {"m": MINUTE, "h": HOUR, "d": timedelta(days=1), "w": timedelta(weeks=1)}


class Interval(enum.Enum):
    MINUTE = timedelta(minutes=1)
    FIVE_MINUTES = timedelta(minutes=5)
    FIFTEEN_MINUTES = timedelta(minutes=15)
    HOUR = timedelta(hours=1)
    DAY = timedelta(days=1)
    WEEK = timedelta(weeks=1)

    def floor(self, moment: datetime) -> datetime:
        return floor_to(moment, self.value)


def floor_to(moment: datetime, width: timedelta) -> datetime:
    origin = WEEK_ORIGIN if width == Interval.WEEK.value else EPOCH
    return origin + ((moment - origin) // width) * width


def bucket_of(moment: datetime, level: timedelta) -> datetime:
    """``floor_to`` for the rollup levels, fast enough for every record of every batch."""
    if level == MINUTE:
        return moment.replace(second=0, microsecond=0)
    if level == HOUR:
        return moment.replace(minute=0, second=0, microsecond=0)
    return floor_to(moment, level)


def ceil_to(moment: datetime, width: timedelta) -> datetime:
    floored = floor_to(moment, width)
    return floored if floored == moment else floored + width


def parse_last(text: str) -> timedelta:
    """``"15m"``, ``"24h"``, ``"7d"``, ``"2w"`` as a duration."""
    match = _LAST_PATTERN.match(text)
    if match is None or int(match.group(1)) == 0:
        raise InvalidRange(
            f"last: {text!r} is not a duration such as '15m', '24h', '7d' or '2w'", field="last"
        )
    return int(match.group(1)) * _LAST_UNITS[match.group(2)]


def as_utc(moment: datetime) -> datetime:
    """Aware UTC; a naive datetime is taken to be UTC already."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 in UTC, written with ``Z``: how the gateway writes every time."""
    return as_utc(moment).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True, slots=True)
class TimeRange:
    """A resolved half-open range ``[start, end)``; ``sliding`` when it was given as ``last``."""

    start: datetime
    end: datetime
    sliding: bool = False

    @classmethod
    def resolve(
        cls,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        last: str | None = None,
        now: datetime,
    ) -> TimeRange:
        if last is not None and start is not None:
            raise InvalidRange("range: give either 'from' or 'last', not both", field="range")
        resolved_end = as_utc(end) if end is not None else now
        if start is not None:
            resolved_start = as_utc(start)
        else:
            resolved_start = resolved_end - (parse_last(last) if last is not None else DEFAULT_LAST)
        if resolved_start >= resolved_end:
            raise InvalidRange("range: 'from' must be before 'to'", field="range")
        return cls(resolved_start, resolved_end, sliding=end is None and start is None)

    def to_minutes(self) -> TimeRange:
        """The range widened to whole minutes, the resolution of every rollup."""
        return TimeRange(floor_to(self.start, MINUTE), ceil_to(self.end, MINUTE), self.sliding)

    def buckets(self, interval: Interval) -> list[datetime]:
        """Every bucket start of ``interval`` that the range touches, in order."""
        first = interval.floor(self.start)
        count = -(-(self.end - first) // interval.value)
        if count > MAX_POINTS:
            raise InvalidRange(
                f"interval: {count} buckets is more than {MAX_POINTS}; choose a coarser interval",
                field="interval",
            )
        return [first + i * interval.value for i in range(count)]


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a range served by rollups of one level."""

    level: timedelta
    start: datetime
    end: datetime


def segments(time_range: TimeRange, interval: Interval) -> Iterator[Segment]:
    """Split a minute-aligned range into the fewest rollup rows that cover it exactly.

    Hour rollups serve the whole hours inside the range when the interval is an hour or coarser
    (an hour bucket never straddles two output buckets then); minute rollups serve the edges.
    """
    start, end = time_range.start, time_range.end
    coarse = max(
        (level for level in LEVELS if interval.value % level == timedelta(0)),
        default=LEVELS[0],
    )
    if coarse == LEVELS[0]:
        yield Segment(LEVELS[0], start, end)
        return
    inner_start, inner_end = ceil_to(start, coarse), floor_to(end, coarse)
    if inner_start >= inner_end:
        yield Segment(LEVELS[0], start, end)
        return
    if start < inner_start:
        yield Segment(LEVELS[0], start, inner_start)
    yield Segment(coarse, inner_start, inner_end)
    if inner_end < end:
        yield Segment(LEVELS[0], inner_end, end)
