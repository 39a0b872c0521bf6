"""``MongoStore``'s reads of task state: tasks per user, completion times."""

from __future__ import annotations

import math
from collections.abc import Sequence

from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import TaskSummary, UserTaskCounts


class TaskReads(Database):
    """``TaskReader``."""

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        match = {
            "tenant": tenant,
            "user_id": {"$ne": None},
            "created_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        page: list[Filter] = [
            {"$match": match},
            {
                "$group": {
                    "_id": "$user_id",
                    "created": {"$sum": 1},
                    "completed": {"$sum": {"$cond": [_OPEN, 0, 1]}},
                    "seconds": {"$avg": _SECONDS},
                }
            },
        ]
        if after_user is not None:
            page.append({"$match": {"_id": {"$gt": after_user}}})
        page += [{"$sort": {"_id": 1}}, {"$limit": first + 1}]
        users: list[Filter] = [{"$match": match}, {"$group": {"_id": "$user_id"}}, {"$count": "n"}]

        async def read() -> tuple[list[UserTaskCounts], bool, int]:
            rows = await self._all("tasks", page)
            counted = await self._all("tasks", users)
            result = [
                UserTaskCounts(r["_id"], int(r["created"]), int(r["completed"]), r["seconds"])
                for r in rows[:first]
            ]
            return result, len(rows) > first, int(counted[0]["n"]) if counted else 0

        return await self._run(read)

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        match: Filter = {
            "tenant": tenant,
            "created_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        if user_id is not None:
            match["user_id"] = user_id
        pipeline: list[Filter] = [
            {"$match": match},
            {
                "$group": {
                    "_id": None,
                    "created": {"$sum": 1},
                    "seconds": {"$push": _SECONDS},
                }
            },
        ]

        async def read() -> TaskSummary:
            rows = await self._all("tasks", pipeline)
            if not rows:
                return TaskSummary(0, 0, None, None, None)
            seconds = sorted(float(s) for s in rows[0]["seconds"] if s is not None)
            average = math.fsum(seconds) / len(seconds) if seconds else None
            return TaskSummary(
                int(rows[0]["created"]),
                len(seconds),
                average,
                _quantile(seconds, 0.5),
                _quantile(seconds, 0.95),
            )

        return await self._run(read)


# Whether a task is open, and its completion time in seconds (null while open), as expressions.
_OPEN = {"$eq": [{"$ifNull": ["$completed_at", None]}, None]}
_SECONDS = {
    "$cond": [
        _OPEN,
        None,
        {"$max": [{"$divide": [{"$subtract": ["$completed_at", "$created_at"]}, 1000]}, 0]},
    ]
}


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (SQL's ``quantile_cont``)."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
