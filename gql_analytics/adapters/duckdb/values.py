"""Values between the domain and DuckDB: naive UTC timestamps, compact JSON, column lists."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from gql_analytics.domain.records import Event

Params = list[Any]
"""The parameters of a statement."""


def naive(moment: datetime) -> datetime:
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def naive_all(moments: Iterable[datetime]) -> list[datetime]:
    """``naive`` of each; receive times repeat across a batch, so each is converted once."""
    converted: dict[datetime, datetime] = {}
    return [converted.get(m) or converted.setdefault(m, naive(m)) for m in moments]


def aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def micros(width: timedelta) -> int:
    return width // timedelta(microseconds=1)


def to_json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


EVENT_COLUMNS = "id, name, tenant, occurred_at, received_at, user_id, source, properties"
"""What ``event_of`` reads, in its order."""


def event_of(row: Sequence[Any]) -> Event:
    """An event from a row of ``EVENT_COLUMNS``."""
    event_id, name, tenant, occurred_at, received_at, user_id, source, properties = row
    return Event(
        id=event_id,
        name=name,
        tenant=tenant,
        occurred_at=occurred_at.replace(tzinfo=UTC),
        received_at=received_at.replace(tzinfo=UTC),
        user_id=user_id,
        source=source,
        properties=json.loads(properties),
    )


def columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            column.append(cell)
    return columns
