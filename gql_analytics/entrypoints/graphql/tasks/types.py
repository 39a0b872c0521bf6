"""Tasks as clients see them: per user, and completion times."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.connection import Connection, page
from gql_analytics.ports import (
    TaskSummary,
    UserTaskCounts,
)


@strawberry.type
class UserTasks:
    user_id: str
    created: int
    completed: int
    open: int
    avg_completion_seconds: float | None

    @classmethod
    def from_domain(cls, counts: UserTaskCounts) -> UserTasks:
        return cls(
            user_id=counts.user_id,
            created=counts.created,
            completed=counts.completed,
            open=counts.open,
            avg_completion_seconds=counts.avg_completion_seconds,
        )


@strawberry.type
class UserTasksConnection(Connection[UserTasks]):
    total_count: int

    @classmethod
    def from_domain(
        cls, users: list[UserTaskCounts], has_next: bool, total: int
    ) -> UserTasksConnection:
        nodes = ((cursors.user_cursor(u.user_id), UserTasks.from_domain(u)) for u in users)
        edges, info = page(nodes, has_next)
        return cls(edges=edges, page_info=info, total_count=total)


@strawberry.type
class TaskStats:
    created: int
    completed: int
    open: int
    avg_completion_seconds: float | None
    p50_completion_seconds: float | None
    p95_completion_seconds: float | None

    @classmethod
    def from_domain(cls, summary: TaskSummary) -> TaskStats:
        return cls(
            created=summary.created,
            completed=summary.completed,
            open=summary.created - summary.completed,
            avg_completion_seconds=summary.avg_completion_seconds,
            p50_completion_seconds=summary.p50_completion_seconds,
            p95_completion_seconds=summary.p95_completion_seconds,
        )
