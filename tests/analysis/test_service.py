"""The job service over a real store: jobs of processes that died, and of other processes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.domain.jobs import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    AnalysisJob,
    AnalysisLimits,
)
from gql_analytics.services.analysis.datasets import RowsDataset
from gql_analytics.services.analysis.parameters import Parameters
from gql_analytics.services.analysis.service import (
    ABANDONED,
    STOPPED,
    AnalysisRequest,
    AnalysisService,
)
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.ingest.pipeline import IngestPipeline
from tests.support import NOW, Clock, eventually, within

BEAT = 0.02


@pytest.fixture
async def store() -> AsyncIterator[DuckDBStore]:
    store = DuckDBStore()
    yield store
    await store.close()


@pytest.fixture
def analytics(store: DuckDBStore, clock: Clock) -> AnalyticsService:
    return AnalyticsService(store, IngestPipeline(store, InProcessBus()), clock=clock)


@pytest.fixture
async def service(
    analytics: AnalyticsService, store: DuckDBStore
) -> AsyncIterator[AnalysisService]:
    service = AnalysisService(analytics, store, heartbeat=BEAT)
    yield service
    await service.close()


def long_clustering() -> AnalysisRequest:
    """k-means for k = 2..10 over 10,000 rows: seconds of work, long enough to be seen running."""
    rng = np.random.default_rng(0)
    rows = [{"x": float(x), "y": float(y)} for x, y in rng.normal(size=(10_000, 2))]
    return AnalysisRequest("CLUSTERING", RowsDataset(rows), Parameters(), {})


def small_summary() -> AnalysisRequest:
    return AnalysisRequest("SUMMARY", RowsDataset([{"x": 1.0}, {"x": 2.0}]), Parameters(), {})


async def until_running(service: AnalysisService, job: AnalysisJob) -> None:
    async for seen in service.watch("default", job.id):
        if seen.state == RUNNING:
            return


class HeldStore(DuckDBStore):
    """Holds the storing of a job's end until released."""

    def __init__(self) -> None:
        super().__init__()
        self.ending = asyncio.Event()
        self.release = asyncio.Event()

    async def save_job(self, job: AnalysisJob) -> None:
        if job.ended:
            self.ending.set()
            await self.release.wait()
        await super().save_job(job)


async def test_cancelling_jobs_again_and_again_leaves_the_workers_to_later_jobs(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService
) -> None:
    jobs = [await service.submit("default", long_clustering(), wait=False) for _ in range(2)]
    for job in jobs:
        await until_running(service, job)
    workers = service._runner._all

    async def replacing() -> bool:
        return len(workers) < 2  # a cancelled job's worker is killed, its replacement starting

    first = [asyncio.create_task(service.cancel("default", job.id)) for job in jobs]
    await eventually(replacing, "no cancelled worker was killed")
    again = [service.cancel("default", job.id) for job in jobs for _ in range(2)]
    ended = await within(asyncio.gather(*first, *again))
    assert {job.state for job in ended} == {CANCELLED}
    later = await within(service.submit("default", small_summary(), wait=True))
    assert later.state == SUCCEEDED
    for job in jobs:
        stored = await store.job("default", job.id)
        assert stored is not None
        assert stored.state == CANCELLED


async def test_a_cancel_that_comes_while_the_end_is_stored_leaves_it_stored(clock: Clock) -> None:
    store = HeldStore()
    analytics = AnalyticsService(store, IngestPipeline(store, InProcessBus()), clock=clock)
    service = AnalysisService(analytics, store, heartbeat=BEAT)
    job = await service.submit("default", long_clustering(), wait=False)
    await until_running(service, job)
    first = asyncio.create_task(service.cancel("default", job.id))
    await within(store.ending.wait())
    second = asyncio.create_task(service.cancel("default", job.id))
    store.release.set()  # after the second cancel reached the job: tasks run in order
    assert [j.state for j in await within(asyncio.gather(first, second))] == [CANCELLED] * 2
    stored = await store.job("default", job.id)
    assert stored is not None
    assert stored.state == CANCELLED
    await service.close()
    await store.close()


async def test_a_job_cancelled_as_soon_as_it_is_submitted_ends_cancelled(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService
) -> None:
    job = await service.submit("default", small_summary(), wait=False)
    cancelled = await service.cancel("default", job.id)  # in the same turn of the event loop
    assert cancelled.state == CANCELLED
    stored = await store.job("default", job.id)
    assert stored is not None
    assert stored.state == CANCELLED


async def test_closing_ends_running_queued_and_awaited_jobs_failed(
    analytics: AnalyticsService,
    store: DuckDBStore,
) -> None:
    service = AnalysisService(analytics, store, limits=AnalysisLimits(concurrent=1), heartbeat=BEAT)
    running = await service.submit("default", long_clustering(), wait=False)
    queued = await service.submit("default", long_clustering(), wait=False)
    awaited = asyncio.create_task(service.submit("default", small_summary(), wait=True))
    await until_running(service, running)

    async def three_stored() -> bool:
        return len((await store.jobs("default", 10, None))[0]) == 3

    await eventually(three_stored, "the awaited job was not stored")
    await within(service.close())
    assert (await within(awaited)).state == FAILED
    for job in (running, queued):
        stored = await store.job("default", job.id)
        assert stored is not None
        assert (stored.state, stored.error) == (FAILED, STOPPED)


async def test_a_job_whose_process_fell_silent_ends_failed_when_read(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService, clock: Clock
) -> None:
    left = AnalysisJob("left", "default", "SUMMARY", RUNNING, NOW, {}, updated_at=NOW)
    await store.save_job(left)
    assert await service.job("default", "left") == left  # its process may still live
    clock.advance(timedelta(seconds=4 * BEAT))
    seen = await service.job("default", "left")
    assert seen is not None
    assert (seen.state, seen.error, seen.finished_at) == (FAILED, ABANDONED, clock.now)
    assert await store.job("default", "left") == seen
    listed, _ = await service.jobs("default", 10, None)
    assert listed == [seen]


async def test_a_running_job_says_its_process_lives(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService, clock: Clock
) -> None:
    job = await service.submit("default", long_clustering(), wait=False)
    clock.advance(timedelta(minutes=5))  # far past the silence that means abandoned

    async def beaten() -> bool:
        stored = await store.job("default", job.id)
        return stored is not None and stored.updated_at == clock.now and not stored.ended

    await eventually(beaten, "the job's heartbeat never reached the store")
    seen = await service.job("default", job.id)
    assert seen is not None
    assert seen.state in {QUEUED, RUNNING}  # QUEUED while the workers start
    await service.cancel("default", job.id)


async def test_a_job_cancelled_through_another_process_is_stopped_by_its_own(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService
) -> None:
    other = AnalysisService(analytics, store, heartbeat=BEAT)  # another process on the same store
    job = await service.submit("default", long_clustering(), wait=False)
    states = service.watch("default", job.id)
    async for seen in states:
        if seen.state == RUNNING:
            break
    cancelled = await other.cancel("default", job.id)
    assert cancelled.state == CANCELLED
    async for seen in states:  # the owner learns it from the store and kills the computation
        last = seen
    assert last.state == CANCELLED
    stored = await store.job("default", job.id)
    assert stored is not None
    assert stored.state == CANCELLED
    await other.close()


async def test_an_ended_job_is_never_abandoned(
    analytics: AnalyticsService, store: DuckDBStore, service: AnalysisService, clock: Clock
) -> None:
    ended = AnalysisJob("done", "default", "SUMMARY", RUNNING, NOW, {}, updated_at=NOW)
    ended = replace(ended, state=CANCELLED, finished_at=NOW)
    await store.save_job(ended)
    clock.advance(timedelta(days=1))
    assert await service.job("default", "done") == ended
