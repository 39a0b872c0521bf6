"""Output buckets on a time zone's clock and calendar: which bucket holds a moment, which buckets a
range touches, and which rollup rows can serve them."""

from __future__ import annotations

import functools
import zoneinfo
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gql_analytics.domain.offsets import Stretch, offset_at, stretches
from gql_analytics.domain.timerange import (
    EPOCH,
    LEVELS,
    MAX_POINTS,
    Interval,
    Segment,
    TimeRange,
    as_utc,
    segments,
)
from gql_analytics.errors import InvalidInput, InvalidRange

UTC_ZONE = ZoneInfo("UTC")
WALL_EPOCH = datetime(1970, 1, 1)
ONE_DAY = timedelta(days=1)


@functools.cache
def _zone_names() -> frozenset[str]:
    # A system's tz directory may also hold its own zone as "localtime": no IANA name.
    return frozenset(zoneinfo.available_timezones()) - {"localtime", "posixrules"}


def time_zone(name: str | None) -> ZoneInfo:
    """The IANA zone of that name (UTC for None); ``InvalidInput`` naming ``timeZone`` for a name
    the tz database does not hold."""
    if name is None or name == "UTC":
        return UTC_ZONE
    if name not in _zone_names():
        raise InvalidInput(
            f"timeZone: {name!r} is not an IANA time zone name such as 'Europe/Berlin'",
            field="timeZone",
        )
    return ZoneInfo(name)


@dataclass(frozen=True, slots=True)
class Piece:
    """A stretch ``[start, end)`` of constant ``offset``, as a store buckets it by arithmetic:
    a moment's bucket starts at its local time (moment + offset) truncated to the interval, less
    ``offset``; but before ``first_end`` at ``first_start``: from a day up, the bucket holding
    ``start`` began under the offset before (below a day, ``first_end`` is ``start``)."""

    start: datetime
    end: datetime
    offset: timedelta
    first_start: datetime
    first_end: datetime


@dataclass(frozen=True, slots=True)
class Calendar:
    """The buckets of ``interval`` on ``zone``'s clock.

    A bucket of MINUTE to HOUR holds the moments whose local wall time truncates to the same
    multiple of the width under the same UTC offset, and starts (``floor``) at that truncated wall
    time less that offset: the hour repeated when clocks go back is two buckets, and hours in a
    zone 5:30 ahead of UTC start at half past in UTC. A DAY, WEEK (ISO: from Monday) or MONTH
    starts at the local midnight that begins it (the earlier one when midnight happens twice), so
    a day is 23 or 25 hours long across a DST change.
    """

    interval: Interval
    zone: ZoneInfo = UTC_ZONE

    @property
    def fixed_offset(self) -> timedelta | None:
        """The zone's offset when it never changes: UTC and the tz database's ``Etc/`` zones,
        fixed by definition. None for every other zone, whatever its recent history."""
        key = self.zone.key
        if key == "UTC" or key.startswith("Etc/"):
            return offset_at(self.zone, EPOCH)
        return None

    def floor(self, moment: datetime) -> datetime:
        """The aware-UTC start of the bucket that holds ``moment``."""
        local = as_utc(moment).astimezone(self.zone)
        wall = local.replace(tzinfo=None)
        width = self.interval.clock_width
        if width is None:
            return self.start_of_day(self._first_day(wall.date()))
        offset = local.utcoffset()
        assert offset is not None
        return (wall - (wall - WALL_EPOCH) % width - offset).replace(tzinfo=UTC)

    def buckets(self, time_range: TimeRange) -> list[datetime]:
        """Every bucket start the range touches, in order; ``InvalidRange`` past ``MAX_POINTS``."""
        found: set[datetime] = set()  # a local day the zone skipped starts where the next does
        for start in self._starts(time_range):
            found.add(start)
            if len(found) > MAX_POINTS:
                raise InvalidRange(
                    f"interval: more than {MAX_POINTS} buckets; choose a coarser interval",
                    field="interval",
                )
        return sorted(found)

    def following(self, start: datetime) -> datetime:
        """The start of the bucket after the one that starts at ``start``."""
        width = self.interval.clock_width
        if width is None:
            day = start.astimezone(self.zone).date()
            return self.start_of_day(self._next_first_day(self._first_day(day)))
        step = width
        while (after := self.floor(start + step)) <= start:  # a bucket longer than its width
            step += width
        return after

    def stretches(self, time_range: TimeRange) -> tuple[Stretch, ...]:
        """The range's stretches of constant UTC offset."""
        offset = self.fixed_offset
        if offset is not None:
            return (Stretch(time_range.start, time_range.end, offset),)
        return stretches(self.zone, time_range.start, time_range.end)

    def pieces(self, time_range: TimeRange) -> list[Piece]:
        """The range's stretches of constant offset, each with what bucketing it by arithmetic
        needs (``Piece``): how stores compute ``floor`` with nothing but this zone data."""
        found = []
        for stretch in self.stretches(time_range):
            first_start, first_end = stretch.start, stretch.start
            if self.interval.clock_width is None:
                day = self._first_day(stretch.start.astimezone(self.zone).date())
                by_arithmetic = datetime.combine(day, time(), UTC) - stretch.offset
                if by_arithmetic != self.start_of_day(day):
                    first_start = self.start_of_day(day)
                    first_end = self.start_of_day(self._next_first_day(day))
            found.append(Piece(stretch.start, stretch.end, stretch.offset, first_start, first_end))
        return found

    def rollup_level(self, time_range: TimeRange) -> timedelta:
        """The coarsest rollup level (``LEVELS``, UTC-aligned rows) each of whose rows over the
        range lies wholly inside one bucket: an hour when the interval is an hour or longer and
        the offset stays a whole number of hours, changing only on the hour; else a minute.
        ``InvalidRange`` (naming ``timeZone``) when even a minute row could straddle two buckets:
        an offset of seconds, as the local mean times before about 1900 were."""
        pieces = self.stretches(time_range)
        width = self.interval.clock_width
        for level in reversed(LEVELS):
            if width is not None and width % level:
                continue
            if all(
                not piece.offset % level
                and (piece.start == time_range.start or not (piece.start - EPOCH) % level)
                for piece in pieces
            ):
                return level
        raise InvalidRange(
            f"timeZone: {self.zone.key}'s offset in this range is not a whole number of minutes",
            field="timeZone",
        )

    def segments(self, time_range: TimeRange) -> list[Segment]:
        """The rollup rows that serve the minute-aligned range, each inside one bucket."""
        return list(segments(time_range, self.rollup_level(time_range)))

    def _starts(self, time_range: TimeRange) -> Iterator[datetime]:
        width = self.interval.clock_width
        if width is None:
            day = self._first_day(time_range.start.astimezone(self.zone).date())
            while (start := self.start_of_day(day)) < time_range.end:
                yield start
                day = self._next_first_day(day)
            return
        for piece in self.stretches(time_range):
            start = self.floor(piece.start)
            while start < piece.end:
                yield start
                start += width

    def _first_day(self, day: date) -> date:
        if self.interval is Interval.WEEK:
            return day - timedelta(days=day.weekday())
        if self.interval is Interval.MONTH:
            return day.replace(day=1)
        return day

    def _next_first_day(self, day: date) -> date:
        if self.interval is Interval.WEEK:
            return day + timedelta(weeks=1)
        if self.interval is Interval.MONTH:
            return date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return day + ONE_DAY

    def start_of_day(self, day: date) -> datetime:
        """The UTC moment of the local midnight starting ``day`` (fold 0: the earlier of two, or
        the moment the clocks skip to when there is none)."""
        return datetime.combine(day, time(), tzinfo=self.zone).astimezone(UTC)


def whole_local_days(time_range: TimeRange, zone: ZoneInfo) -> TimeRange:
    """A range of whole days (``last: "7d"``, ``"48h"``) as that many whole local days: from the
    local midnight starting the first of them to the range's end, the last day being the one
    that holds the range's last moment (today, for a range ending now). A DAY series of it has
    no partial first bucket; across a DST change it is an hour longer or shorter.
    ``InvalidRange`` for a range that is not a whole number of days long."""
    length = time_range.end - time_range.start
    if length % ONE_DAY:
        raise InvalidRange(
            "range: wholeDays needs a range a whole number of days long, such as last: '7d'",
            field="range",
        )
    days = Calendar(Interval.DAY, zone)
    last_day = (time_range.end - timedelta(microseconds=1)).astimezone(zone).date()
    start = days.start_of_day(last_day - (length // ONE_DAY - 1) * ONE_DAY)
    return TimeRange(start, time_range.end, time_range.sliding)
