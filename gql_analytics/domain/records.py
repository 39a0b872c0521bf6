"""Canonical records: what every upstream shape is normalized into."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeAlias

JSONObject: TypeAlias = Mapping[str, Any]

DEFAULT_TENANT = "default"

TASK_CREATED = "task_created"
TASK_UPDATED = "task_updated"
TASK_COMPLETED = "task_completed"
TASK_EVENT_NAMES = frozenset({TASK_CREATED, TASK_UPDATED, TASK_COMPLETED})
DONE_STATUSES = frozenset({"done", "completed"})


@dataclass(frozen=True, slots=True)
class Event:
    id: str
    name: str
    tenant: str
    occurred_at: datetime
    received_at: datetime
    user_id: str | None = None
    source: str | None = None
    properties: JSONObject = field(default_factory=dict)

    @property
    def task_id(self) -> str | None:
        value = self.properties.get("task_id", self.properties.get("taskId"))
        return None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class MetricPoint:
    id: str
    name: str
    value: float
    tenant: str
    occurred_at: datetime
    received_at: datetime
    tags: Mapping[str, str] = field(default_factory=dict)


Record: TypeAlias = Event | MetricPoint


@dataclass(frozen=True, slots=True)
class SourcePosition:
    """The next offset to read from one partition of a source, committed with the batch."""

    source: str
    partition: int
    next_offset: int


@dataclass(frozen=True, slots=True)
class Batch:
    records: Sequence[Record]
    positions: Sequence[SourcePosition] = ()


@dataclass(frozen=True, slots=True)
class ApplyResult:
    """What a committed batch did: ``applied`` new records, ``duplicates`` already stored."""

    applied: tuple[Record, ...]
    duplicates: int
