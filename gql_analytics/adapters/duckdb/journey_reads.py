"""``DuckDBStore``'s funnels and retention, answered in SQL (``journeys.py``)."""

from __future__ import annotations

from datetime import datetime

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.journeys import funnel_sql, retention_sql
from gql_analytics.adapters.duckdb.values import aware
from gql_analytics.domain.query.funnel import Funnel, FunnelQuestion, StepResult
from gql_analytics.domain.query.retention import RetentionQuestion, RetentionTable


class JourneyReads(Database):
    """``JourneyReader``."""

    async def funnel(self, question: FunnelQuestion) -> Funnel:
        statement, params = funnel_sql(question)

        def read() -> Funnel:
            return Funnel(
                tuple(
                    StepResult(users, _seconds(median), _seconds(p95))
                    for _, users, median, p95 in self.rows(statement, params)
                )
            )

        return await self._run(read)

    async def cohort_retention(self, question: RetentionQuestion) -> RetentionTable:
        statement, params = retention_sql(question)

        def read() -> RetentionTable:
            sizes: dict[datetime, int] = {}
            returning: dict[tuple[datetime, int], int] = {}
            for cohort, period, users in self.rows(statement, params):
                start = aware(cohort)
                assert start is not None
                if period is None:
                    sizes[start] = users
                else:
                    returning[(start, period)] = users
            return RetentionTable.of_counts(question, sizes, returning)

        return await self._run(read)


def _seconds(micros: int | None) -> float | None:
    return None if micros is None else micros / 1e6
