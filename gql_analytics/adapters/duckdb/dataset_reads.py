"""``DuckDBStore``'s reads of the columns analysis jobs run on, fetched as arrays."""

from __future__ import annotations

import numpy as np

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import Params, naive
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import TaskColumns, UserActivity


class DatasetReads(Database):
    """``DatasetReader``."""

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        where = "tenant = ? AND user_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?"
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
        names = f"SELECT DISTINCT name FROM events WHERE {where} ORDER BY name"

        def read() -> UserActivity:
            found = [name for (name,) in self.rows(names, params)]
            # One pass, pivoted in SQL, fetched as arrays: no Python object per user or count.
            per_name = "".join(
                f", count(*) FILTER (WHERE name = ?) AS n{i}" for i in range(len(found))
            )
            statement = f"""
                SELECT user_id, count(DISTINCT CAST(occurred_at AS DATE)) AS days {per_name}
                FROM events WHERE {where} GROUP BY user_id ORDER BY user_id LIMIT {most + 1}
            """
            columns = self._reader().execute(statement, [*found, *params]).fetchnumpy()
            more = len(columns["user_id"]) > most
            return UserActivity(
                users=columns["user_id"][:most],
                active_days=columns["days"][:most],
                events={name: columns[f"n{i}"][:most] for i, name in enumerate(found)},
                more=more,
            )

        return await self._run(read)

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        statement = f"""
            SELECT task_id, user_id, status, created_at, completed_at FROM tasks
            WHERE tenant = ? AND created_at >= ? AND created_at < ?
            ORDER BY created_at, task_id LIMIT {most + 1}
        """
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]

        def read() -> TaskColumns:
            # Arrays, not rows: a million tasks never become a million Python tuples.
            columns = self._reader().execute(statement, params).fetchnumpy()
            kept = {name: np.ma.filled(values[:most]) for name, values in columns.items()}
            return TaskColumns(
                task_ids=kept["task_id"],
                user_ids=kept["user_id"],
                statuses=kept["status"],
                created_at=kept["created_at"],
                completed_at=kept["completed_at"],
                more=len(columns["task_id"]) > most,
            )

        return await self._run(read)
