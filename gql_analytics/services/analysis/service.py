"""Analysis jobs from request to result: checked, stored, run in the worker pool, followed,
cancelled.

A request is read into its dataset and checked against the operation first (``preflight``), so
bad input is an error and never a job; a dataset past the row limit is a job that ends FAILED at
once. A job is stored QUEUED, turns RUNNING when a worker takes it, and ends SUCCEEDED, FAILED or
CANCELLED; every change is stored (``analysis(id)`` reads it after a restart) and pushed to whoever
follows the job in this process. A job is a span in the trace of the request that submitted it,
with the worker's phases under it (see ``runner``).
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from opentelemetry.trace import NoOpTracer, Tracer

from gql_analytics.domain.jobs import (
    CANCELLED,
    FAILED,
    QUEUED,
    RUNNING,
    SUCCEEDED,
    AnalysisJob,
    AnalysisLimits,
)
from gql_analytics.errors import AnalysisFailed, GatewayError, InvalidInput
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import DatasetReader, JobCursor, JobRepository, TaskReader
from gql_analytics.services.analysis.datasets import Dataset, load
from gql_analytics.services.analysis.operations import OPERATIONS, preflight
from gql_analytics.services.analysis.parameters import Parameters
from gql_analytics.services.analysis.runner import AnalysisRunner
from gql_analytics.services.analytics import AnalyticsService

log = logging.getLogger(__name__)
STOPPED = "the gateway stopped before the job ended"
ABANDONED = "the gateway process running the job stopped before it ended"
ELSEWHERE_POLL = 1.0  # seconds between reads of a job that another process runs
HEARTBEAT = 10.0  # seconds between the signs of life of a process's unfinished jobs
MISSED_BEATS = 3  # a job silent this many heartbeats is abandoned


class AnalysisStore(JobRepository, DatasetReader, TaskReader, Protocol):
    """What analysis needs of a store: its jobs kept, and the data it runs on read."""


@dataclass(frozen=True, slots=True)
class AnalysisRequest:
    operation: str
    dataset: Dataset
    parameters: Parameters
    echo: dict[str, Any]  # the input as the client sent it, stored with the job


@dataclass(eq=False, slots=True)
class _Running:
    job: AnalysisJob
    changed: asyncio.Event = field(default_factory=asyncio.Event)
    saving: asyncio.Lock = field(default_factory=asyncio.Lock)
    task: asyncio.Task[None] | None = None
    stoppable: bool = True  # until its computation ended: then its end is being stored

    def stop(self) -> None:
        """Kill the job's computation, once. A second cancellation of the task (a second
        ``cancelAnalysis``, the gateway stopping) would land in the storing of its end, and
        leave the store saying RUNNING."""
        if self.stoppable and self.task is not None:
            self.stoppable = False
            self.task.cancel()


def new_id() -> str:
    return uuid.uuid4().hex


class AnalysisService:
    def __init__(
        self,
        analytics: AnalyticsService,
        store: AnalysisStore,
        *,
        limits: AnalysisLimits | None = None,
        runner: AnalysisRunner | None = None,
        ids: Callable[[], str] = new_id,
        heartbeat: float = HEARTBEAT,
        metrics: Metrics | None = None,
        tracer: Tracer | None = None,
    ) -> None:
        self._metrics = metrics
        self._tracer = tracer = tracer or NoOpTracer()
        self._analytics = analytics
        self._store = store
        self._clock = analytics.clock
        self.limits = limits = limits or AnalysisLimits()
        self._runner = runner or AnalysisRunner(
            workers=limits.concurrent, seconds=limits.seconds, tracer=tracer
        )
        self._ids = ids
        self._heartbeat = heartbeat
        self._beating: asyncio.Task[None] | None = None
        self._started: asyncio.Task[None] | None = None
        self._running: dict[tuple[str, str], _Running] = {}
        self._saves: set[asyncio.Task[None]] = set()
        self._closing = False

    # -- submitting -----------------------------------------------------------------------------

    async def submit(self, tenant: str, request: AnalysisRequest, *, wait: bool) -> AnalysisJob:
        """The job of a checked request, stored and queued (``wait``: once it ended).
        ``InvalidInput`` for what cannot be answered, and then nothing is stored."""
        if request.operation not in OPERATIONS:
            raise InvalidInput(f"operation: {request.operation!r} is not an analysis operation")
        now = self._clock()
        job = AnalysisJob(
            id=self._ids(),
            tenant=tenant,
            operation=request.operation,
            state=QUEUED,
            created_at=now,
            request=request.echo,
            updated_at=now,
        )
        try:
            frame = await load(
                request.dataset,
                tenant=tenant,
                store=self._store,
                analytics=self._analytics,
                limit=self.limits.rows,
            )
        except AnalysisFailed as error:
            failed = replace(job, state=FAILED, finished_at=self._clock(), error=error.message)
            await self._store.save_job(failed)
            self._ended(failed)
            return failed
        preflight(request.operation, frame, request.parameters)
        await self._store.save_job(job)
        running = _Running(job)
        self._running[(tenant, job.id)] = running
        running.task = asyncio.create_task(
            self._execute(running, frame, request), name=f"analysis-{job.id}"
        )
        # Let the task reach its try: cancelled before its first step, it would end without
        # storing CANCELLED, and stay QUEUED (and beating) for good.
        await asyncio.sleep(0)
        if self._beating is None:  # in no request's context: its saves belong to no trace
            self._beating = asyncio.create_task(
                self._beat_forever(), name="analysis-heartbeat", context=contextvars.Context()
            )
        if wait:
            # The job is the server's: a client that stops waiting does not cancel it.
            await asyncio.shield(running.task)
        return running.job

    async def _execute(self, running: _Running, frame: Any, request: AnalysisRequest) -> None:
        job = running.job
        with self._tracer.start_as_current_span(
            f"analysis {job.operation}",
            attributes={"analysis.job.id": job.id, "analysis.operation": job.operation},
        ) as span:
            await self._work(running, frame, request)
            span.set_attribute("analysis.state", running.job.state)

    async def _work(self, running: _Running, frame: Any, request: AnalysisRequest) -> None:
        try:
            await self._start_workers()
            result = await self._runner.run(
                OPERATIONS[request.operation],
                frame,
                request.parameters,
                started=lambda: self._change(running, state=RUNNING),
                progress=lambda fraction: self._change(running, progress=fraction),
            )
            end: dict[str, Any] = {"state": SUCCEEDED, "progress": 1.0, "result": result}
        except GatewayError as error:
            end = {"state": FAILED, "error": error.message}
        except asyncio.CancelledError:
            end = {"state": FAILED, "error": STOPPED} if self._closing else {"state": CANCELLED}
        except Exception:
            log.exception("analysis %s failed", running.job.id)
            end = {"state": FAILED, "error": "the analysis failed unexpectedly"}
        running.stoppable = False
        self._change(running, save=False, notify=False, finished_at=self._clock(), **end)
        try:
            await self._save(running)
            stored = await self._store.job(running.job.tenant, running.job.id)
            if stored is not None and stored.state != running.job.state:
                running.job = stored  # it ended first through another process
        except GatewayError as error:
            log.error("analysis %s: its end could not be stored: %s", running.job.id, error)
        finally:
            self._notify(running)
            self._ended(running.job)
            del self._running[(running.job.tenant, running.job.id)]

    def _ended(self, job: AnalysisJob) -> None:
        if self._metrics is not None:
            self._metrics.jobs.labels(job.state).inc()

    async def _start_workers(self) -> None:
        """Workers start with the first job (not with the server, which starts faster without)."""
        if self._started is None:
            self._started = asyncio.create_task(self._runner.start())
        await asyncio.shield(self._started)

    async def _beat_forever(self) -> None:
        """Every job of this process says, through the store, that its process lives: a job
        whose process died (killed, crashed) falls silent and is seen as abandoned."""
        while True:
            await asyncio.sleep(self._heartbeat)
            for running in list(self._running.values()):
                self._change(running, notify=False)  # nothing a follower would see changed

    def _change(
        self, running: _Running, *, save: bool = True, notify: bool = True, **changes: Any
    ) -> None:
        running.job = replace(running.job, updated_at=self._clock(), **changes)
        if notify:
            self._notify(running)
        if save:
            task = asyncio.create_task(self._save(running))
            self._saves.add(task)
            task.add_done_callback(self._saved)

    def _notify(self, running: _Running) -> None:
        running.changed.set()
        running.changed = asyncio.Event()

    def _saved(self, task: asyncio.Task[None]) -> None:
        self._saves.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("analysis progress not stored: %s", task.exception())

    async def _save(self, running: _Running) -> None:
        async with running.saving:  # one save at a time, each of the latest state
            job = running.job
            if not job.ended:
                stored = await self._store.job(job.tenant, job.id)
                if stored is not None and stored.ended:  # cancelled through another process
                    running.stop()
                    return
            await self._store.save_job(job)

    # -- reading --------------------------------------------------------------------------------

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None:
        running = self._running.get((tenant, job_id))
        if running is not None:
            return running.job
        found = await self._store.job(tenant, job_id)
        return None if found is None else await self._settled(found)

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        if not 0 <= first <= 500:
            raise InvalidInput("first: must be between 0 and 500", field="first")
        page, more = await self._store.jobs(tenant, first, after)
        return [await self._latest(job) for job in page], more

    async def _latest(self, job: AnalysisJob) -> AnalysisJob:
        running = self._running.get((job.tenant, job.id))
        return running.job if running is not None else await self._settled(job)

    async def _settled(self, job: AnalysisJob) -> AnalysisJob:
        """A stored job as it stands: one that no process has spoken for in too long ended
        FAILED (and is stored so), as its process did."""
        last = job.updated_at or job.created_at
        silence = (self._clock() - last).total_seconds()
        if job.ended or silence <= MISSED_BEATS * self._heartbeat:
            return job
        abandoned = replace(
            job, state=FAILED, error=ABANDONED, finished_at=self._clock(), updated_at=self._clock()
        )
        await self._store.save_job(abandoned)
        return abandoned

    async def watch(self, tenant: str, job_id: str) -> AsyncIterator[AnalysisJob]:
        """The job now, then at every change until it ended."""
        job = await self.job(tenant, job_id)
        if job is None:
            raise InvalidInput(f"id: no analysis job {job_id}", field="id")
        while True:
            running = self._running.get((tenant, job_id))
            if running is not None:
                changed, job = running.changed, running.job
            yield job
            if job.ended:
                return
            if running is not None:
                await changed.wait()
            else:  # run by another process: its changes reach us through the store
                await asyncio.sleep(ELSEWHERE_POLL)
            found = await self.job(tenant, job_id)
            job = found if found is not None else job

    # -- cancelling and stopping ----------------------------------------------------------------

    async def cancel(self, tenant: str, job_id: str) -> AnalysisJob:
        """The job cancelled (its computation killed); a job that already ended stays as it is."""
        running = self._running.get((tenant, job_id))
        if running is not None and running.task is not None:
            running.stop()
            await asyncio.wait([running.task])
            return running.job
        job = await self.job(tenant, job_id)
        if job is None:
            raise InvalidInput(f"id: no analysis job {job_id}", field="id")
        if not job.ended:  # run by another process, which learns it from the store
            now = self._clock()
            job = replace(job, state=CANCELLED, finished_at=now, updated_at=now)
            await self._store.save_job(job)
        return job

    async def close(self) -> None:
        """Jobs still running end FAILED (the gateway stopped); the workers stop."""
        self._closing = True
        if self._beating is not None:
            self._beating.cancel()
        tasks = [r.task for r in self._running.values() if r.task is not None]
        for running in self._running.values():
            running.stop()
        if tasks:
            await asyncio.wait(tasks)
        if self._saves:
            await asyncio.wait(list(self._saves))
        if self._started is not None:
            with contextlib.suppress(Exception):
                await self._started
            await self._runner.close()
