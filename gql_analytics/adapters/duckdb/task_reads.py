"""``DuckDBStore``'s reads of task state: tasks per user, completion times."""

from __future__ import annotations

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import Params, naive
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import TaskSummary, UserTaskCounts


class TaskReads(Database):
    """``TaskReader``."""

    # NULL for open tasks (DuckDB's greatest() would turn NULL into 0).
    _SECONDS = (
        "CASE WHEN completed_at IS NOT NULL "
        "THEN greatest(date_diff('microsecond', created_at, completed_at) / 1e6, 0) END"
    )

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        where = "tenant = ? AND user_id IS NOT NULL AND created_at >= ? AND created_at < ?"
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
        page_where, page_params = where, list(params)
        if after_user is not None:
            page_where += " AND user_id > ?"
            page_params.append(after_user)
        page = f"""
            SELECT user_id, count(*), count(completed_at), avg({self._SECONDS})
            FROM tasks WHERE {page_where} GROUP BY user_id ORDER BY user_id LIMIT {first + 1}
        """
        total = f"SELECT count(DISTINCT user_id) FROM tasks WHERE {where}"

        def read() -> tuple[list[UserTaskCounts], bool, int]:
            rows = self.rows(page, page_params)
            (count,) = self.rows(total, params)[0]
            users = [UserTaskCounts(u, int(c), int(d), a) for u, c, d, a in rows[:first]]
            return users, len(rows) > first, int(count)

        return await self._run(read)

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        where = "tenant = ? AND created_at >= ? AND created_at < ?"
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
        if user_id is not None:
            where += " AND user_id = ?"
            params.append(user_id)
        statement = f"""
            SELECT count(*), count(completed_at), avg(s), quantile_cont(s, 0.5),
                   quantile_cont(s, 0.95)
            FROM (SELECT completed_at, {self._SECONDS} AS s FROM tasks WHERE {where})
        """
        rows = await self._run(lambda: self.rows(statement, params))
        created, completed, avg, p50, p95 = rows[0]
        return TaskSummary(int(created), int(completed), avg, p50, p95)
