"""``DuckDBStore``'s reads of raw events: pages newest first, counts, one by id."""

from __future__ import annotations

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import EVENT_COLUMNS, Params, event_of, naive, to_json
from gql_analytics.domain.records import Event
from gql_analytics.ports import EventCursor, EventQuery


class EventReads(Database):
    """``EventReader``."""

    @staticmethod
    def _event_where(query: EventQuery) -> tuple[str, Params]:
        clauses = ["tenant = ?"]
        params: Params = [query.tenant]
        if query.names is not None:
            clauses.append("name IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(query.names))
        if query.user_id is not None:
            clauses.append("user_id = ?")
            params.append(query.user_id)
        if query.time_range is not None:
            clauses.append("occurred_at >= ? AND occurred_at < ?")
            params += [naive(query.time_range.start), naive(query.time_range.end)]
        for key, wanted in query.properties.items():
            clauses.append("json_extract(properties, ?) = ?::JSON")
            params += ['$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"', to_json(wanted)]
        return " AND ".join(clauses), params

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        where, params = self._event_where(query)
        if after is not None:
            where += " AND (occurred_at < ? OR (occurred_at = ? AND id < ?))"
            params += [naive(after.occurred_at), naive(after.occurred_at), after.id]
        statement = f"""
            SELECT {EVENT_COLUMNS}
            FROM events WHERE {where} ORDER BY occurred_at DESC, id DESC LIMIT {first + 1}
        """
        rows = await self._run(lambda: self.rows(statement, params))
        return [event_of(row) for row in rows[:first]], len(rows) > first

    async def count_events(self, query: EventQuery) -> int:
        where, params = self._event_where(query)
        rows = await self._run(
            lambda: self.rows(f"SELECT count(*) FROM events WHERE {where}", params)
        )
        return int(rows[0][0])

    async def event(self, tenant: str, event_id: str) -> Event | None:
        rows = await self._run(
            lambda: self.rows(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE tenant = ? AND id = ?",
                [tenant, event_id],
            )
        )
        return event_of(rows[0]) if rows else None
