"""The job repository's contract: jobs stored, updated until they end, listed newest first."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gql_analytics.domain.jobs import QUEUED, RUNNING, SUCCEEDED, AnalysisJob
from gql_analytics.ports import JobCursor, JobRepository
from tests.contract.roles.records import T0


class JobRepositoryContract:
    """``JobRepository``, on the ``store`` an adapter's test class gives."""

    async def test_an_analysis_job_is_stored_updated_and_read_back(
        self, store: JobRepository
    ) -> None:
        queued = AnalysisJob(
            "j1", "default", "SUMMARY", QUEUED, T0, {"dataset": {"rows": [{"a": 1.5}]}}
        )
        await store.save_job(queued)
        assert await store.job("default", "j1") == queued
        done = replace(
            queued,
            state=SUCCEEDED,
            progress=1.0,
            finished_at=T0 + timedelta(seconds=2),
            result={"columns": {"a": {"count": 1, "mean": 1.5, "std": None}}},
            updated_at=T0 + timedelta(seconds=2),
        )
        await store.save_job(done)
        assert await store.job("default", "j1") == done
        await store.save_job(replace(queued, state=RUNNING, progress=0.5))  # a late save
        assert await store.job("default", "j1") == done  # an ended job is final
        assert await store.job("other", "j1") is None
        assert await store.job("default", "nope") is None

    async def test_analysis_jobs_list_newest_first_by_page_within_a_tenant(
        self, store: JobRepository
    ) -> None:
        for i in range(5):
            job = AnalysisJob(
                f"j{i}", "default", "SUMMARY", QUEUED, T0 + timedelta(minutes=i % 3), {}
            )
            await store.save_job(job)
        await store.save_job(AnalysisJob("x", "other", "SUMMARY", QUEUED, T0, {}))
        page, more = await store.jobs("default", 3, None)
        assert [j.id for j in page] == ["j2", "j4", "j1"]
        assert more
        last = page[-1]
        rest, more = await store.jobs("default", 3, JobCursor(last.created_at, last.id))
        assert [j.id for j in rest] == ["j3", "j0"]
        assert not more
