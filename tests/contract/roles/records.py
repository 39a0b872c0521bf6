"""The records the contracts write, and their counts read back from the rollups."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.records import Event, MetricPoint
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import RollupReader

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY = TimeRange(T0 - timedelta(hours=12), T0 + timedelta(hours=12))


def event(
    id: str,
    minutes: float,
    name: str = "login",
    user: str | None = "u1",
    tenant: str = "default",
    **properties: object,
) -> Event:
    return event_at(id, T0 + timedelta(minutes=minutes), name, user, tenant, **properties)


def event_at(
    id: str,
    moment: datetime,
    name: str = "login",
    user: str | None = "u1",
    tenant: str = "default",
    **properties: object,
) -> Event:
    return Event(
        id=id,
        name=name,
        tenant=tenant,
        occurred_at=moment,
        received_at=T0,
        user_id=user,
        properties=properties,
    )


def point(id: str, minutes: float, value: float, name: str = "latency", **tags: str) -> MetricPoint:
    return point_at(id, T0 + timedelta(minutes=minutes), value, name, **tags)


def point_at(
    id: str, moment: datetime, value: float, name: str = "latency", **tags: str
) -> MetricPoint:
    return MetricPoint(id, name, value, "default", moment, T0, tags)


def utc(moments: Collection[Any]) -> list[datetime | None]:
    """Times as aware datetimes, whichever way a store gives them (datetime or datetime64)."""
    converted = pd.to_datetime(list(moments), utc=True)
    return [None if pd.isna(m) else m.to_pydatetime() for m in converted]


async def counts(
    store: RollupReader, name: str, window: TimeRange, interval: Interval | Calendar | None
) -> dict[datetime | None, int]:
    """Counts per bucket (of an interval in UTC, or of a calendar); the whole range's total under
    ``None``, checked against the buckets."""
    series = await store.series("default", EVENT, [name])
    calendar = Calendar(interval) if isinstance(interval, Interval) else interval
    stats = await store.rollup_stats({s.id: name for s in series}, window, calendar)
    counted = {bucket: s.count for (_, bucket), s in stats.items()}
    total = counted.pop(None, 0)
    if calendar is None:
        assert counted == {}
        return {None: total}
    assert total == sum(counted.values())
    return dict(sorted(counted.items()))
