"""``MongoStore``'s reads of the columns analysis jobs run on."""

from __future__ import annotations

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import TaskColumns, UserActivity


class DatasetReads(Database):
    """``DatasetReader``."""

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        match: Filter = {
            "tenant": tenant,
            "user_id": {"$ne": None},
            "occurred_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        day = {"$dateToString": {"format": "%Y-%m-%d", "date": "$occurred_at"}}
        users: list[Filter] = [
            {"$match": match},
            {"$group": {"_id": {"user": "$user_id", "day": day}}},
            {"$group": {"_id": "$_id.user", "days": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
            {"$limit": most + 1},
        ]

        async def read() -> UserActivity:
            found = await self._all("events", users)
            chosen, more = found[:most], len(found) > most
            if not chosen:
                return UserActivity([], [], {}, more)
            last = chosen[-1]["_id"]
            counts: list[Filter] = [
                {"$match": {**match, "user_id": {"$ne": None, "$lte": last}}},
                {"$group": {"_id": {"user": "$user_id", "name": "$name"}, "n": {"$sum": 1}}},
            ]
            position = {row["_id"]: i for i, row in enumerate(chosen)}
            events: dict[str, list[int]] = {}
            for row in await self._all("events", counts):
                column = events.setdefault(row["_id"]["name"], [0] * len(chosen))
                column[position[row["_id"]["user"]]] = int(row["n"])
            return UserActivity(
                users=[row["_id"] for row in chosen],
                active_days=[int(row["days"]) for row in chosen],
                events=dict(sorted(events.items())),
                more=more,
            )

        return await self._run(read)

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        wanted = {"tenant": tenant, "created_at": {"$gte": time_range.start, "$lt": time_range.end}}

        pipeline: list[Filter] = [
            {"$match": wanted},
            {"$sort": {"created_at": 1, "task_id": 1}},
            {"$limit": most + 1},
        ]

        async def read() -> TaskColumns:
            found = [docs.task_delta_of(doc) for doc in await self._all("tasks", pipeline)]
            kept = found[:most]
            return TaskColumns(
                task_ids=[t.task_id for t in kept],
                user_ids=[t.user_id for t in kept],
                statuses=[t.status for t in kept],
                created_at=[t.created_at for t in kept],
                completed_at=[t.completed_at for t in kept],
                more=len(found) > most,
            )

        return await self._run(read)
