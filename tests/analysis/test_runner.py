"""The runner: operations in worker processes, with a time limit, cancellation and a fixed
number of workers."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import AsyncIterator

import pandas as pd
import pytest

from gql_analytics.errors import AnalysisFailed, InvalidAnalysis
from gql_analytics.services.analysis.operations import clustering, summary
from gql_analytics.services.analysis.parameters import Parameters
from gql_analytics.services.analysis.runner import AnalysisRunner
from tests.analysis.slow import broken, forever, not_a_number, whose
from tests.support import eventually, within

FRAME = pd.DataFrame({"a": [1.0, 2.0, 4.0], "b": [3.0, 1.0, 2.0]})


@pytest.fixture
async def runner() -> AsyncIterator[AnalysisRunner]:
    runner = AnalysisRunner(workers=1, seconds=20)
    await runner.start()
    yield runner
    await runner.close()


async def test_an_operation_runs_in_a_worker_process_with_the_same_result(
    runner: AnalysisRunner,
) -> None:
    assert await runner.run(summary, FRAME, Parameters()) == summary(FRAME, Parameters())
    assert (await runner.run(whose, FRAME, Parameters()))["pid"] != os.getpid()


async def test_the_worker_reports_the_start_and_the_progress_of_the_job(
    runner: AnalysisRunner,
) -> None:
    heard: list[object] = []
    frame = pd.DataFrame({"a": [1.0, 2.0, 8.0, 9.0, 15.0, 16.0], "b": [0.0, 1.0] * 3})
    result = await runner.run(
        clustering,
        frame,
        Parameters(),
        started=lambda: heard.append("started"),
        progress=heard.append,
    )
    steps = len(range(2, 6))  # k from 2 to rows - 1
    assert heard == ["started", *(done / steps for done in range(1, steps + 1))]
    assert result == clustering(frame, Parameters())


async def test_what_the_operation_refuses_comes_back_as_bad_input(runner: AnalysisRunner) -> None:
    with pytest.raises(InvalidAnalysis, match="no column nope"):
        await runner.run(summary, FRAME, Parameters(columns=("nope",)))


async def test_a_broken_operation_fails_the_job_and_the_worker_serves_on(
    runner: AnalysisRunner,
) -> None:
    with pytest.raises(AnalysisFailed, match="ZeroDivisionError"):
        await runner.run(broken, FRAME, Parameters())
    assert await runner.run(summary, FRAME, Parameters()) == summary(FRAME, Parameters())


async def test_a_job_past_its_time_limit_fails_and_its_worker_is_replaced() -> None:
    runner = AnalysisRunner(workers=1, seconds=0.5)
    await runner.start()
    first = (await runner.run(whose, FRAME, Parameters()))["pid"]
    with pytest.raises(AnalysisFailed, match=r"limit of 0\.5 seconds"):
        await runner.run(forever, FRAME, Parameters())
    second = (await runner.run(whose, FRAME, Parameters()))["pid"]
    assert second != first
    assert not _alive(first)
    await runner.close()


async def test_a_cancelled_job_kills_its_computation(runner: AnalysisRunner) -> None:
    first = (await runner.run(whose, FRAME, Parameters()))["pid"]
    job = await computing_forever(runner)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    assert not _alive(first)
    assert (await runner.run(whose, FRAME, Parameters()))["pid"] != first


async def test_jobs_beyond_the_worker_count_wait_their_turn(runner: AnalysisRunner) -> None:
    blocking = asyncio.create_task(runner.run(forever, FRAME, Parameters()))

    async def started() -> bool:
        return _busy(runner)

    await eventually(started, "the first job did not reach its worker")
    waiting = asyncio.create_task(runner.run(whose, FRAME, Parameters()))
    await asyncio.sleep(0)  # let it queue
    assert not waiting.done()
    blocking.cancel()
    with pytest.raises(asyncio.CancelledError):
        await blocking
    assert (await waiting)["pid"] > 0


async def test_a_job_cancelled_again_while_its_worker_is_replaced_gives_the_worker_back(
    runner: AnalysisRunner,
) -> None:
    first = (await runner.run(whose, FRAME, Parameters()))["pid"]
    job = await computing_forever(runner)

    async def killed() -> bool:
        return not _alive(first)

    job.cancel()
    await eventually(killed, "the cancelled computation was not killed")
    job.cancel()  # a second cancelAnalysis, while the killed worker is being replaced
    with pytest.raises(asyncio.CancelledError):
        await job
    assert (await within(runner.run(whose, FRAME, Parameters())))["pid"] != first


async def test_closing_the_runner_while_a_worker_is_replaced_leaves_no_process() -> None:
    runner = AnalysisRunner(workers=1, seconds=20)
    await runner.start()
    job = await computing_forever(runner)
    job.cancel()
    with pytest.raises(asyncio.CancelledError):
        await job
    await within(runner.close())  # the replacement is still starting
    assert not [p for p in multiprocessing.active_children() if p.name == "gql-analytics-analysis"]


async def test_a_result_json_cannot_carry_fails_the_job_and_the_worker_serves_on(
    runner: AnalysisRunner,
) -> None:
    first = (await runner.run(whose, FRAME, Parameters()))["pid"]
    with pytest.raises(AnalysisFailed, match="not JSON"):
        await runner.run(not_a_number, FRAME, Parameters())
    assert (await runner.run(whose, FRAME, Parameters()))["pid"] == first


async def computing_forever(runner: AnalysisRunner) -> asyncio.Task[object]:
    """A job that never ends, once a worker computes it."""
    job: asyncio.Task[object] = asyncio.create_task(runner.run(forever, FRAME, Parameters()))

    async def started() -> bool:
        return _busy(runner)

    await eventually(started, "the job did not reach its worker")
    return job


def _busy(runner: AnalysisRunner) -> bool:
    idle = runner._idle
    return idle is not None and idle.empty()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
