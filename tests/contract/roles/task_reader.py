"""The task reader's contract: tasks per user and completion times, whatever the order facts
arrive in."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gql_analytics.domain.records import Batch, Event
from gql_analytics.ports import RecordWriter, TaskReader
from tests.contract.roles.records import DAY, T0


class FoldedTasks(RecordWriter, TaskReader, Protocol):
    """Task state, and the writer of the task facts it is folded from."""


class TaskReaderContract:
    """``TaskReader``, on the ``store`` an adapter's test class gives."""

    async def test_task_completion_times_hold_whatever_the_arrival_order(
        self, store: FoldedTasks
    ) -> None:
        completed = Event(
            "c1",
            "task_completed",
            "default",
            T0 + timedelta(minutes=90),
            T0,
            "u1",
            None,
            {"task_id": "t1"},
        )
        created = Event("c0", "task_created", "default", T0, T0, "u1", None, {"task_id": "t1"})
        other = Event("c2", "task_created", "default", T0, T0, "u2", None, {"taskId": "t2"})
        await store.apply(Batch([completed]))
        await store.apply(Batch([created, other]))
        users, more, total = await store.tasks_per_user("default", DAY, 10, None)
        assert [
            (u.user_id, u.created, u.completed, u.open, u.avg_completion_seconds) for u in users
        ] == [
            ("u1", 1, 1, 0, 5400.0),
            ("u2", 1, 0, 1, None),
        ]
        assert (more, total) == (False, 2)
        users, more, total = await store.tasks_per_user("default", DAY, 1, "u1")
        assert [u.user_id for u in users] == ["u2"]
        summary = await store.task_summary("default", DAY, None)
        assert (summary.created, summary.completed, summary.avg_completion_seconds) == (
            2,
            1,
            5400.0,
        )
        assert summary.p50_completion_seconds == 5400.0
        assert (await store.task_summary("default", DAY, "u2")).completed == 0
