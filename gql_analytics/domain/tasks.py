"""Task facts: task events folded into per-task state, whatever order they arrive in.

A task is created at its earliest ``task_created`` and completed at its earliest ``task_completed``
(or ``task_updated`` with status done/completed). Both are minimums, so folding facts in any order,
any number of times, gives the same state; completion time is completion minus creation.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime

from gql_analytics.domain.records import (
    DONE_STATUSES,
    TASK_COMPLETED,
    TASK_CREATED,
    TASK_EVENT_NAMES,
    Event,
)


@dataclass(frozen=True, slots=True)
class TaskDelta:
    tenant: str
    task_id: str
    user_id: str | None = None
    created_at: datetime | None = None
    completed_at: datetime | None = None
    status: str | None = None
    status_at: datetime | None = None

    @classmethod
    def of(cls, event: Event) -> TaskDelta:
        assert event.task_id is not None, "task events are validated to carry a task id"
        raw_status = event.properties.get("status")
        status = str(raw_status).lower() if raw_status is not None else None
        if event.name == TASK_COMPLETED:
            status = status or "completed"
        elif event.name == TASK_CREATED:
            status = status or "open"
        done = event.name == TASK_COMPLETED or status in DONE_STATUSES
        return cls(
            tenant=event.tenant,
            task_id=event.task_id,
            user_id=event.user_id,
            created_at=event.occurred_at if event.name == TASK_CREATED else None,
            completed_at=event.occurred_at if done else None,
            status=status,
            status_at=event.occurred_at if status else None,
        )

    def merge(self, other: TaskDelta) -> TaskDelta:
        latest = self
        if other.status_at is not None and (
            self.status_at is None or other.status_at >= self.status_at
        ):
            latest = other
        return replace(
            self,
            # The creator owns the task; before its creation is seen, the first user who named it.
            user_id=(other.user_id if other.created_at else None) or self.user_id or other.user_id,
            created_at=_earliest(self.created_at, other.created_at),
            completed_at=_earliest(self.completed_at, other.completed_at),
            status=latest.status,
            status_at=latest.status_at,
        )


def _earliest(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def fold_task_facts(events: Iterable[Event]) -> dict[tuple[str, str], TaskDelta]:
    tasks: dict[tuple[str, str], TaskDelta] = {}
    for event in events:
        if event.name not in TASK_EVENT_NAMES:
            continue
        delta = TaskDelta.of(event)
        key = (delta.tenant, delta.task_id)
        known = tasks.get(key)
        tasks[key] = known.merge(delta) if known else delta
    return tasks


def completion_seconds(created_at: datetime | None, completed_at: datetime | None) -> float | None:
    if created_at is None or completed_at is None:
        return None
    return max((completed_at - created_at).total_seconds(), 0.0)
