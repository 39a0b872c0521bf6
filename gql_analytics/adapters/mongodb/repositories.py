"""``MongoStore``'s analysis jobs and API keys."""

from __future__ import annotations

from pymongo import ReplaceOne
from pymongo.errors import BulkWriteError

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.jobs import ENDED, AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.ports import JobCursor

DUPLICATE_KEY = 11000


class Repositories(Database):
    """``JobRepository`` and ``KeyRepository``."""

    async def save_job(self, job: AnalysisJob) -> None:
        document = docs.job_document(job)

        unfinished = {"_id": document["_id"], "state": {"$nin": sorted(ENDED)}}

        async def save() -> None:
            try:
                await self._db["analysis_jobs"].bulk_write(
                    [ReplaceOne(unfinished, document, upsert=True)]
                )
            except BulkWriteError as error:
                # The job has ended (the upsert found no unfinished one, and its id is taken):
                # an ended job is final.
                if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                    raise

        await self._run(save)

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None:
        async def read() -> AnalysisJob | None:
            found = await self._db["analysis_jobs"].find_one(
                {"_id": docs.record_id(tenant, job_id)}
            )
            return None if found is None else docs.job_of(found)

        return await self._run(read)

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        cursor = None if after is None else (after.created_at, after.id)
        return await self._run(
            lambda: self._newest_first(
                "analysis_jobs", {"tenant": tenant}, "created_at", cursor, first, docs.job_of
            )
        )

    async def save_key(self, key: ApiKey) -> None:
        document = docs.key_document(key)

        async def save() -> None:
            await self._db["api_keys"].bulk_write(
                [ReplaceOne({"_id": key.id}, document, upsert=True)]
            )

        await self._run(save)

    async def key(self, key_id: str) -> ApiKey | None:
        async def read() -> ApiKey | None:
            found = await self._db["api_keys"].find_one({"_id": key_id})
            return None if found is None else docs.key_of(found)

        return await self._run(read)

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        wanted: Filter = {} if tenant is None else {"tenant": tenant}
        pipeline: list[Filter] = [{"$match": wanted}, {"$sort": {"created_at": 1, "_id": 1}}]

        async def read() -> list[ApiKey]:
            return [docs.key_of(d) for d in await self._all("api_keys", pipeline)]

        return await self._run(read)
