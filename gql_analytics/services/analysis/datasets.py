"""What an analysis runs on, as a DataFrame: rows sent inline, or one of three views of the store.

- ``EventsDataset``: one row per user with events in the range (index ``user_id``): ``events``
  in all, ``active_days``, one column per event name with that user's count, and their tasks
  created in the range: ``tasks_created``, ``tasks_completed``, ``avg_completion_seconds``
  (missing for a user who completed none).
- ``MetricDataset``: one row per bucket of the range in its time zone (index ``bucket``, the
  bucket's start in UTC): ``count``,
  ``sum``, ``avg``, ``min``, ``max``, ``std`` and ``p50``/``p90``/``p95``/``p99``, read from
  the rollups; a bucket without points has count 0 and the rest missing.
- ``TasksDataset``: one row per task created in the range (index ``task_id``): ``user_id``,
  ``status``, ``created_at``, ``completed_at``, ``completed`` (0/1), ``completion_seconds``.
- ``RowsDataset``: the inline rows, one column per key (index: the row's position).

A dataset of more rows than the limit is refused with ``AnalysisFailed`` before it is read whole.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from gql_analytics.domain.calendar import UTC_ZONE, Calendar
from gql_analytics.domain.stats import PERCENTILES
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import AnalysisFailed
from gql_analytics.ports import DatasetReader, TaskColumns, TaskReader, UserActivity, UserTaskCounts
from gql_analytics.services.analysis.rows import frame_of_rows
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.answers import Stats

FIXED_USER_COLUMNS = ("events", "active_days")
TASK_USER_COLUMNS = ("tasks_created", "tasks_completed", "avg_completion_seconds")


@dataclass(frozen=True, slots=True)
class EventsDataset:
    time_range: TimeRange


@dataclass(frozen=True, slots=True)
class MetricDataset:
    name: str
    time_range: TimeRange
    interval: Interval
    tags: Mapping[str, Any] | None = None
    zone: ZoneInfo = UTC_ZONE


@dataclass(frozen=True, slots=True)
class TasksDataset:
    time_range: TimeRange


@dataclass(frozen=True, slots=True)
class RowsDataset:
    rows: Any  # checked when read: a list of flat JSON objects


Dataset = EventsDataset | MetricDataset | TasksDataset | RowsDataset


def _too_many(limit: int, what: str) -> AnalysisFailed:
    return AnalysisFailed(f"the dataset has more than {limit:,} {what}, the limit of rows")


class DatasetStore(DatasetReader, TaskReader, Protocol):
    """What a dataset is read from."""


async def load(
    dataset: Dataset, *, tenant: str, store: DatasetStore, analytics: AnalyticsService, limit: int
) -> pd.DataFrame:
    """The dataset's frame (building a large one happens off the event loop)."""
    match dataset:
        case RowsDataset(rows):
            frame = frame_of_rows(rows)
            if len(frame) > limit:
                raise _too_many(limit, "rows")
            return frame
        case EventsDataset(time_range):
            activity = await store.user_activity(tenant, time_range, limit)
            if activity.more:
                raise _too_many(limit, "users")
            tasks, _, _ = await store.tasks_per_user(tenant, time_range, limit, None)
            return await asyncio.to_thread(user_frame, activity, tasks)
        case TasksDataset(time_range):
            found = await store.tasks(tenant, time_range, limit)
            if found.more:
                raise _too_many(limit, "tasks")
            return await asyncio.to_thread(task_frame, found)
        case MetricDataset(name, time_range, interval, tags, zone):
            if len(Calendar(interval, zone).buckets(time_range.to_minutes())) > limit:
                raise _too_many(limit, "buckets")
            result = await analytics.metric(tenant, name, time_range, interval, tags, zone=zone)
            return metric_frame(result.points)


def user_frame(activity: UserActivity, tasks: list[UserTaskCounts]) -> pd.DataFrame:
    index = pd.Index(list(activity.users), name="user_id")
    taken = set(FIXED_USER_COLUMNS) | set(TASK_USER_COLUMNS)
    per_name = {
        f"{name} (events)" if name in taken else name: np.asarray(counts, dtype="int64")
        for name, counts in activity.events.items()
    }
    total = np.sum(list(per_name.values()), axis=0) if per_name else np.zeros(len(index), "int64")
    frame = pd.DataFrame(
        {
            "events": np.asarray(total, dtype="int64"),
            "active_days": np.asarray(activity.active_days, dtype="int64"),
            **per_name,
        },
        index=index,
    )
    task_columns = pd.DataFrame(
        [(t.user_id, t.created, t.completed, t.avg_completion_seconds) for t in tasks],
        columns=["user_id", *TASK_USER_COLUMNS],
    ).set_index("user_id")
    frame = frame.join(task_columns.reindex(index))
    frame[["tasks_created", "tasks_completed"]] = (
        frame[["tasks_created", "tasks_completed"]].fillna(0).astype("int64")
    )
    frame["avg_completion_seconds"] = frame["avg_completion_seconds"].astype(float)
    return frame


def task_frame(tasks: TaskColumns) -> pd.DataFrame:
    frame = pd.DataFrame(
        {
            "user_id": np.asarray(tasks.user_ids, dtype=object),
            "status": np.asarray(tasks.statuses, dtype=object),
            "created_at": pd.to_datetime(pd.Index(tasks.created_at), utc=True),
            "completed_at": pd.to_datetime(pd.Index(tasks.completed_at), utc=True),
        },
        index=pd.Index(np.asarray(tasks.task_ids, dtype=object), name="task_id"),
    )
    frame["completed"] = frame["completed_at"].notna().astype("int64")
    frame["completion_seconds"] = (
        (frame["completed_at"] - frame["created_at"]).dt.total_seconds().clip(lower=0)
    )
    return frame


def metric_frame(points: list[tuple[datetime, Stats]]) -> pd.DataFrame:
    quantiles = [f"p{round(q * 100)}" for q in PERCENTILES]
    rows = [
        (
            s.count,
            s.sum if s.count else None,
            s.avg,
            s.min,
            s.max,
            s.stddev,
            s.p50,
            s.p90,
            s.p95,
            s.p99,
        )
        for _, s in points
    ]
    columns = ["count", "sum", "avg", "min", "max", "std", *quantiles]
    index = pd.DatetimeIndex([bucket for bucket, _ in points], name="bucket", tz="UTC")
    frame = pd.DataFrame(rows, columns=columns, index=index)
    frame[columns[1:]] = frame[columns[1:]].astype(float)
    return frame
