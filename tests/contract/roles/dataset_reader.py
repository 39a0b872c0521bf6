"""The dataset reader's contract: the columns analysis jobs run on, per user and per task."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gql_analytics.domain.records import Batch, Event
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import DatasetReader, RecordWriter
from tests.contract.roles.records import DAY, T0, event, utc


class Datasets(RecordWriter, DatasetReader, Protocol):
    """Datasets, and the writer of the records they are read from."""


class DatasetReaderContract:
    """``DatasetReader``, on the ``store`` an adapter's test class gives."""

    async def test_user_activity_counts_events_per_name_and_active_days(
        self, store: Datasets
    ) -> None:
        day = 24 * 60
        await store.apply(
            Batch(
                [
                    event("a", 1, "login", "u2"),
                    event("b", 2, "login", "u2"),
                    event("c", 3, "search", "u2"),
                    event("d", 4 + day, "login", "u2"),  # another day, outside DAY
                    event("e", -60, "login", "u1"),
                    event("f", 60, "search", "u1"),
                    event("g", 5, "login", None),  # anonymous: no user to describe
                    event("h", 6, "login", "u3", tenant="other"),
                ]
            )
        )
        week = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=2))
        activity = await store.user_activity("default", week, 10)
        assert list(activity.users) == ["u1", "u2"]
        assert list(activity.active_days) == [1, 2]
        assert {name: list(n) for name, n in activity.events.items()} == {
            "login": [1, 3],
            "search": [1, 1],
        }
        assert activity.more is False
        first = await store.user_activity("default", DAY, 1)
        assert (list(first.users), list(first.active_days), first.more) == (["u1"], [1], True)
        assert {name: list(n) for name, n in first.events.items()} == {
            "login": [1],
            "search": [1],
        }
        nobody = await store.user_activity("nobody", week, 10)
        assert (list(nobody.users), dict(nobody.events), nobody.more) == ([], {}, False)

    async def test_tasks_created_in_a_range_are_listed_oldest_first(self, store: Datasets) -> None:
        def task(id: str, name: str, minutes: float, task: str, user: str = "u1") -> Event:
            return event(id, minutes, name, user, task_id=task)

        await store.apply(
            Batch(
                [
                    task("a", "task_created", 10, "t2", "u2"),
                    task("b", "task_created", 5, "t1"),
                    task("c", "task_completed", 65, "t1"),
                    task("d", "task_created", 60 * 24, "t3"),  # created outside DAY
                ]
            )
        )
        tasks = await store.tasks("default", DAY, 10)
        assert list(tasks.task_ids) == ["t1", "t2"]
        assert list(tasks.user_ids) == ["u1", "u2"]
        assert list(tasks.statuses) == ["completed", "open"]
        assert utc(tasks.created_at) == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
        assert utc(tasks.completed_at) == [T0 + timedelta(minutes=65), None]
        assert tasks.more is False
        first = await store.tasks("default", DAY, 1)
        assert (list(first.task_ids), first.more) == (["t1"], True)
        nothing = await store.tasks("other", DAY, 10)
        assert (list(nothing.task_ids), nothing.more) == ([], False)
