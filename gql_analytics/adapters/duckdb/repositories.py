"""``DuckDBStore``'s analysis jobs and API keys."""

from __future__ import annotations

import json
from datetime import UTC
from typing import Any

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import aware, naive, to_json
from gql_analytics.domain.jobs import AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.ports import JobCursor


class Repositories(Database):
    """``JobRepository`` and ``KeyRepository``."""

    async def save_job(self, job: AnalysisJob) -> None:
        row = [
            job.id,
            job.tenant,
            job.operation,
            job.state,
            naive(job.created_at),
            to_json(job.request),
            job.progress,
            job.finished_at and naive(job.finished_at),
            job.error,
            None if job.result is None else to_json(job.result),
            job.updated_at and naive(job.updated_at),
        ]
        await self._write(sql.SAVE_JOB, row)

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None:
        statement = f"SELECT {sql.JOB_COLUMNS} FROM analysis_jobs WHERE tenant = ? AND id = ?"
        rows = await self._run(lambda: self.rows(statement, [tenant, job_id]))
        return _job_of(rows[0]) if rows else None

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        where, params = "tenant = ?", list[Any]([tenant])
        if after is not None:
            where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            params += [naive(after.created_at), naive(after.created_at), after.id]
        statement = f"""
            SELECT {sql.JOB_COLUMNS} FROM analysis_jobs WHERE {where}
            ORDER BY created_at DESC, id DESC LIMIT {first + 1}
        """
        rows = await self._run(lambda: self.rows(statement, params))
        return [_job_of(row) for row in rows[:first]], len(rows) > first

    async def save_key(self, key: ApiKey) -> None:
        row = [
            key.id,
            key.tenant,
            key.role,
            key.secret_hash,
            naive(key.created_at),
            key.name,
            key.revoked_at and naive(key.revoked_at),
        ]
        await self._write(sql.SAVE_KEY, row)

    async def key(self, key_id: str) -> ApiKey | None:
        statement = f"SELECT {sql.KEY_COLUMNS} FROM api_keys WHERE id = ?"
        rows = await self._run(lambda: self.rows(statement, [key_id]))
        return _key_of(rows[0]) if rows else None

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        where, params = ("WHERE tenant = ?", [tenant]) if tenant is not None else ("", [])
        statement = f"SELECT {sql.KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id"
        rows = await self._run(lambda: self.rows(statement, params))
        return [_key_of(row) for row in rows]


def _key_of(row: tuple[Any, ...]) -> ApiKey:
    id, tenant, role, secret_hash, created_at, name, revoked_at = row
    return ApiKey(
        id, tenant, role, secret_hash, created_at.replace(tzinfo=UTC), name, aware(revoked_at)
    )


def _job_of(row: tuple[Any, ...]) -> AnalysisJob:
    (
        id,
        tenant,
        operation,
        state,
        created_at,
        request,
        progress,
        finished_at,
        error,
        result,
        updated_at,
    ) = row
    return AnalysisJob(
        id=id,
        tenant=tenant,
        operation=operation,
        state=state,
        created_at=created_at.replace(tzinfo=UTC),
        request=json.loads(request),
        progress=progress,
        finished_at=aware(finished_at),
        error=error,
        result=None if result is None else json.loads(result),
        updated_at=aware(updated_at),
    )
