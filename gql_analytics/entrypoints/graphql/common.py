"""Shared by every domain: the interval enum and the time-range input."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from gql_analytics.domain.timerange import Interval as DomainInterval
from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.errors import InvalidInput
from gql_analytics.services.analytics import AnalyticsService


@strawberry.enum(description="Width of the buckets a series is drawn in.")
class Interval(enum.Enum):
    MINUTE = "MINUTE"
    FIVE_MINUTES = "FIVE_MINUTES"
    FIFTEEN_MINUTES = "FIFTEEN_MINUTES"
    HOUR = "HOUR"
    DAY = "DAY"
    WEEK = "WEEK"

    def to_domain(self) -> DomainInterval:
        return DomainInterval[self.value]

    @staticmethod
    def or_default(interval: Interval | None, default: Interval) -> DomainInterval:
        """An explicit ``null`` means the argument's default."""
        return (interval or default).to_domain()


@strawberry.input(
    description='A time range: from/to, or last ("15m", "24h", "7d"). Default: last 24h.'
)
class TimeRange:
    from_: datetime | None = strawberry.field(name="from", default=None)
    to: datetime | None = None
    last: str | None = None

    def resolve(self, service: AnalyticsService) -> DomainTimeRange:
        return service.time_range(self.from_, self.to, self.last)


def resolve_range(time_range: TimeRange | None, service: AnalyticsService) -> DomainTimeRange:
    return (time_range or TimeRange()).resolve(service)


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
