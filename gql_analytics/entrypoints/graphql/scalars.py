"""Scalars: ``DateTime`` as ISO-8601 in UTC (``Z``), and free-form ``JSON``."""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain.timerange import as_utc, iso_utc


def parse_datetime(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError("DateTime must be an ISO-8601 string")
    # A time without an offset is read as UTC, the gateway's one time zone.
    return as_utc(datetime.fromisoformat(value))


DateTime = strawberry.scalar(
    name="DateTime",
    description="An ISO-8601 date and time; always UTC on output, e.g. 2026-11-22T09:30:00Z.",
    serialize=iso_utc,
    parse_value=parse_datetime,
)

__all__ = ["JSON", "DateTime", "parse_datetime"]
