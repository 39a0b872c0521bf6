"""``MongoStore``'s reads of raw events: pages newest first, counts, one by id."""

from __future__ import annotations

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.records import Event
from gql_analytics.ports import EventCursor, EventQuery


class EventReads(Database):
    """``EventReader``."""

    @staticmethod
    def _event_filter(query: EventQuery) -> Filter:
        wanted: Filter = {"tenant": query.tenant}
        if query.names is not None:
            wanted["name"] = {"$in": list(query.names)}
        if query.user_id is not None:
            wanted["user_id"] = query.user_id
        if query.time_range is not None:
            wanted["occurred_at"] = {"$gte": query.time_range.start, "$lt": query.time_range.end}
        matches = []
        for key, value in query.properties.items():
            if "." in key or key.startswith("$"):
                field = {"$getField": {"field": {"$literal": key}, "input": "$properties"}}
                matches.append({"$expr": {"$eq": [field, {"$literal": value}]}})
            else:
                wanted[f"properties.{key}"] = value
        if matches:
            wanted["$and"] = matches
        return wanted

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        cursor = None if after is None else (after.occurred_at, after.id)
        return await self._run(
            lambda: self._newest_first(
                "events", self._event_filter(query), "occurred_at", cursor, first, docs.event_of
            )
        )

    async def count_events(self, query: EventQuery) -> int:
        wanted = self._event_filter(query)

        async def count() -> int:
            counted: int = await self._db["events"].count_documents(wanted)
            return counted

        return await self._run(count)

    async def event(self, tenant: str, event_id: str) -> Event | None:
        async def read() -> Event | None:
            found = await self._db["events"].find_one({"_id": docs.record_id(tenant, event_id)})
            return None if found is None else docs.event_of(found)

        return await self._run(read)
