"""Shared by every domain: the interval enum, the time-zone argument and the time-range input."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import strawberry

from gql_analytics.domain.calendar import time_zone
from gql_analytics.domain.timerange import Interval as DomainInterval
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.errors import InvalidInput
from gql_analytics.services.analytics import AnalyticsService


@strawberry.enum(
    description="Width of the buckets a series is drawn in, on the clock of the field's timeZone: "
    "DAY, WEEK (from Monday) and MONTH start at a local midnight, so a day can last 23 or 25 "
    "hours."
)
class Interval(enum.Enum):
    MINUTE = "MINUTE"
    FIVE_MINUTES = "FIVE_MINUTES"
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"
    MONTH = "MONTH"

    def to_domain(self) -> DomainInterval:
        return DomainInterval[self.value]

    @staticmethod
    def or_default(interval: Interval | None, default: Interval) -> DomainInterval:
        """An explicit ``null`` means the argument's default."""
        return (interval or default).to_domain()


TimeZoneArgument = Annotated[
    str | None,
    strawberry.argument(
        description='The IANA time zone ("Europe/Berlin") whose clock and calendar the buckets '
        "follow. Default: UTC."
    ),
]


def zone_of(name: str | None) -> ZoneInfo:
    """A ``timeZone`` argument's zone; an explicit ``null`` means UTC."""
    return time_zone(name)


@strawberry.input(
    description='A time range: from/to, or last ("15m", "24h", "7d"). Default: last 24h.'
)
class TimeRange:
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None
    last: str | None = None
    whole_days: bool | None = strawberry.field(
        default=None,
        description='With last in whole days ("7d", "2w", "48h"): that many whole local days '
        "(in the field's timeZone, else UTC), from the midnight that starts the first to the "
        "range's end, today being the last of them.",
    )

    def resolve(self, service: AnalyticsService, zone: ZoneInfo | None = None) -> DomainTimeRange:
        whole_days_in = (zone or time_zone(None)) if self.whole_days else None
        return service.time_range(self.from_, self.to, self.last, whole_days_in=whole_days_in)


def resolve_range(
    time_range: TimeRange | None, service: AnalyticsService, zone: ZoneInfo | None = None
) -> DomainTimeRange:
    return (time_range or TimeRange()).resolve(service, zone)


def json_object(value: Any, field: str) -> dict[str, Any]:
    """A filter's object of names (properties, tags) to the values wanted."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInput(f"{field}: must be a JSON object", field=field)
    if "" in value:
        raise InvalidInput(f"{field}: a name cannot be empty", field=field)
    return value


def string_tags(value: Any, field: str = "tags") -> dict[str, str]:
    tags = json_object(value, field)
    if not all(isinstance(v, str) for v in tags.values()):
        raise InvalidInput(f"{field}: every tag value must be a string", field=field)
    return tags
