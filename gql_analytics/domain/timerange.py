"""Time ranges, intervals, and the fixed-width UTC arithmetic of rollup levels (half-open
ranges). Output buckets, which follow a time zone's clock and calendar, are ``calendar.Calendar``'s."""

from __future__ import annotations

import enum
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from gql_analytics.errors import InvalidRange

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
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
    """The width of an output bucket on a time zone's local clock. Its length in UTC is the
    ``Calendar``'s to say (a DST day lasts 23 or 25 hours, a month 28 to 31 days): nothing but
    ``Calendar`` does arithmetic with it."""

    MINUTE = "MINUTE"
    FIVE_MINUTES = "FIVE_MINUTES"
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"

    @property
    def clock_width(self) -> timedelta | None:
        """The width on the local clock of the intervals shorter than a day; None for DAY, WEEK
        and MONTH, whose buckets start at a local midnight."""
        return _CLOCK_WIDTHS.get(self)

    @property
    def nominal(self) -> timedelta:
        """A bucket's length without DST (a month: its shortest, 28 days). For estimates only."""
        return _CLOCK_WIDTHS.get(self) or _CALENDAR_NOMINAL[self]


_CLOCK_WIDTHS = {
    Interval.MINUTE: MINUTE,
    Interval.FIVE_MINUTES: 5 * MINUTE,
    Interval.FIFTEEN_MINUTES: 15 * MINUTE,
    Interval.HOUR: HOUR,
}
_CALENDAR_NOMINAL = {
    Interval.DAY: timedelta(days=1),
    Interval.WEEK: timedelta(weeks=1),
    Interval.MONTH: timedelta(days=28),
}


def floor_to(moment: datetime, width: timedelta) -> datetime:
    """``moment`` floored to a multiple of ``width`` since the epoch, in UTC."""
    return EPOCH + ((moment - EPOCH) // width) * width


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


@dataclass(frozen=True, slots=True)
class Segment:
    """A piece of a range served by rollups of one level."""

    level: timedelta
    start: datetime
    end: datetime


def segments(time_range: TimeRange, coarsest: timedelta = LEVELS[-1]) -> Iterator[Segment]:
    """Split a minute-aligned range into the fewest rollup rows, none coarser than ``coarsest``,
    that cover it exactly: rows of ``coarsest`` serve the whole ``coarsest`` spans inside the
    range, minute rows the edges. Output buckets are served only by rows lying wholly inside one
    of them: ``Calendar.segments`` passes the level for which that holds; a whole range's total
    is served by any level.
    """
    start, end = time_range.start, time_range.end
    if coarsest == LEVELS[0]:
        yield Segment(LEVELS[0], start, end)
        return
    inner_start, inner_end = ceil_to(start, coarsest), floor_to(end, coarsest)
    if inner_start >= inner_end:
        yield Segment(LEVELS[0], start, end)
        return
    if start < inner_start:
        yield Segment(LEVELS[0], start, inner_start)
    yield Segment(coarsest, inner_start, inner_end)
    if inner_end < end:
        yield Segment(LEVELS[0], inner_end, end)
