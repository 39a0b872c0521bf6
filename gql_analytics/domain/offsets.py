"""Where a time zone's UTC offset changes: the stretches of constant offset a range spans.

``zoneinfo`` answers the offset at a moment but lists no transitions, so they are found by
probing the offset every ``PROBE`` and bisecting, to the second (the tz database's transitions
fall on whole seconds), between two probes that disagree. That finds every change as long as no
zone changes its offset twice within ``PROBE``: since 1900 no zone of the tz database has done
so within a week (the shortest gap, 6 days 23 hours, is Brazil's in October 2000), and a probe
every three days leaves room for the next change of rules.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

PROBE = timedelta(days=3)


@dataclass(frozen=True, slots=True)
class Stretch:
    """``[start, end)`` over which the zone's offset is ``offset``."""

    start: datetime
    end: datetime
    offset: timedelta


def offset_at(zone: ZoneInfo, moment: datetime) -> timedelta:
    offset = moment.astimezone(zone).utcoffset()
    assert offset is not None  # a ZoneInfo always knows its offset
    return offset


@functools.lru_cache(maxsize=256)  # a query asks for its range's stretches more than once
def stretches(zone: ZoneInfo, start: datetime, end: datetime) -> tuple[Stretch, ...]:
    """The stretches of constant offset that cover ``[start, end)``, in order; the first starts
    at ``start``, the last ends at ``end``."""
    found: list[Stretch] = []
    begun, offset = start, offset_at(zone, start)
    probe, last = start, end - timedelta(microseconds=1)
    while probe < last:
        following = min(probe + PROBE, last)
        if offset_at(zone, following) == offset:
            probe = following
            continue
        change = _first_change(zone, probe, following, offset)
        found.append(Stretch(begun, change, offset))
        begun = probe = change
        offset = offset_at(zone, change)
    found.append(Stretch(begun, end, offset))
    return tuple(found)


def _first_change(zone: ZoneInfo, before: datetime, after: datetime, offset: timedelta) -> datetime:
    """The first whole second in ``(before, after]`` whose offset is not ``offset`` (which is
    the offset at ``before``; the offset at ``after`` differs)."""
    low, high = math.floor(before.timestamp()), math.ceil(after.timestamp())
    while high - low > 1:
        middle = (low + high) // 2
        if offset_at(zone, datetime.fromtimestamp(middle, UTC)) == offset:
            low = middle
        else:
            high = middle
    return datetime.fromtimestamp(high, UTC)
