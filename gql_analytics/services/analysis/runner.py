"""Analysis work in worker processes, never on the event loop.

A fixed number of worker processes (the concurrency limit) wait for work; a job takes an idle one
(or waits its turn), sends it the operation and its dataset, and awaits the answer for at most
the time limit. A job past its limit, or cancelled, has its worker killed and replaced, so a
runaway computation never holds a worker or the process it serves. The slot is given back the
moment the job ends, however it ends: the replacement starts in a task of the runner's own, never
in the job's, which a second cancellation could interrupt. Workers are started with ``spawn``:
the gateway's threads (DuckDB, the event loop) are never forked.

The trace of a job crosses into its worker: the worker times what it does (reading the dataset,
computing, encoding the result) and sends those phases back with its answer; the server records
them as spans under the job's span, so a worker needs no exporter of its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import multiprocessing
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from typing import Any

import pandas as pd
from opentelemetry import trace
from opentelemetry.trace import NoOpTracer, Span, Tracer

from gql_analytics.errors import AnalysisFailed, InvalidAnalysis, ShuttingDown
from gql_analytics.services.analysis.operations import Operation
from gql_analytics.services.analysis.parameters import JSON, Parameters, Progress, ignore

log = logging.getLogger(__name__)
FRAME_ROWS = 20_000
RESULT_BYTES = 1 << 20
Phases = list[tuple[str, int, int]]  # (what, start, end): nanoseconds since the epoch


def _nothing() -> None:
    pass


@dataclass(eq=False, slots=True)  # each worker is itself: hashed by identity
class _Worker:
    process: SpawnProcess
    connection: Connection


def _send_frame(connection: Connection, frame: pd.DataFrame) -> None:
    """The frame in slices of rows, so that no single pickling (which holds the GIL) keeps the
    server's event loop waiting for long."""
    slices = range(0, max(len(frame), 1), FRAME_ROWS)
    connection.send(len(slices))
    for start in slices:
        connection.send(frame.iloc[start : start + FRAME_ROWS])


def _receive_frame(connection: Connection) -> pd.DataFrame:
    parts: list[pd.DataFrame] = [connection.recv() for _ in range(connection.recv())]
    return parts[0] if len(parts) == 1 else pd.concat(parts)


def _send_result(connection: Connection, result: JSON, phases: Phases) -> None:
    """The result as JSON text in chunks of bytes: encoding happens here, in the worker, and the
    server stores and parses text rather than unpickling a million objects. A result JSON cannot
    carry (NaN, an infinity: an operation that should have said null, or refused) fails its job,
    not the worker."""
    begun = time.time_ns()
    try:
        text = json.dumps(result, allow_nan=False).encode()
    except (TypeError, ValueError) as error:
        phases.append(("encode result", begun, time.time_ns()))
        connection.send(("error", f"its result is not JSON: {error}", phases))
        return
    chunks = range(0, max(len(text), 1), RESULT_BYTES)
    phases.append(("encode result", begun, time.time_ns()))
    connection.send(("ok", len(chunks), phases))
    for start in chunks:
        connection.send_bytes(text[start : start + RESULT_BYTES])


def _receive_result(connection: Connection, chunks: int) -> JSON:
    result: JSON = json.loads(b"".join(connection.recv_bytes() for _ in range(chunks)))
    return result


def _serve(connection: Connection) -> None:
    """A worker's loop: run each (operation, parameters, frame) sent, answer with its result.
    It says when it is ready, so that its start-up (importing pandas and the rest) is not counted
    in the time limit of its first job."""
    connection.send(("ready", None))

    def report(fraction: float) -> None:
        connection.send(("progress", fraction))

    while True:
        try:
            operation, parameters = connection.recv()
            begun = time.time_ns()
            frame = _receive_frame(connection)
        except EOFError:
            return
        phases: Phases = [("receive dataset", begun, time.time_ns())]
        begun = time.time_ns()
        try:
            result = operation(frame, parameters, report)
        except InvalidAnalysis as error:
            phases.append(("compute", begun, time.time_ns()))
            connection.send(("invalid", error.message, phases))
        except Exception as error:  # reported to the job, which ends FAILED
            phases.append(("compute", begun, time.time_ns()))
            connection.send(("error", f"{type(error).__name__}: {error}", phases))
        else:
            phases.append(("compute", begun, time.time_ns()))
            _send_result(connection, result, phases)


class AnalysisRunner:
    def __init__(
        self, *, workers: int = 2, seconds: float = 60.0, tracer: Tracer | None = None
    ) -> None:
        self._size = workers
        self._seconds = seconds
        self._tracer = tracer or NoOpTracer()
        self._context = multiprocessing.get_context("spawn")
        self._idle: asyncio.Queue[_Worker] | None = None
        self._all: set[_Worker] = set()
        self._replacing: set[asyncio.Task[None]] = set()

    def _spawn(self) -> _Worker:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(
            target=_serve, args=(theirs,), name="gql-analytics-analysis", daemon=True
        )
        process.start()
        theirs.close()
        ours.recv()  # ready
        worker = _Worker(process, ours)
        self._all.add(worker)
        return worker

    def _retire(self, worker: _Worker) -> None:
        self._all.discard(worker)
        worker.process.kill()
        worker.process.join()
        worker.connection.close()

    async def start(self) -> None:
        """Start the workers (each imports pandas and the rest once, here, not in a job)."""
        workers = await asyncio.gather(*(asyncio.to_thread(self._spawn) for _ in range(self._size)))
        self._idle = asyncio.Queue()
        for worker in workers:
            self._idle.put_nowait(worker)

    async def run(
        self,
        operation: Operation,
        frame: pd.DataFrame,
        parameters: Parameters,
        *,
        started: Callable[[], None] = _nothing,
        progress: Progress = ignore,
    ) -> JSON:
        """The operation's result, computed in a worker process; ``InvalidAnalysis`` for what the
        operation refuses, ``AnalysisFailed`` past the time limit or if it broke. Cancelling the
        caller kills the computation. ``started`` is called when a worker takes the job (the
        time limit counts from then), ``progress`` with what the operation reports."""
        idle = self._idle
        if idle is None:
            raise ShuttingDown("the gateway is not running analyses: it is stopping")
        worker = await idle.get()
        healthy = False
        try:  # nothing from here to the slot's return may lose the worker: see _give_back
            started()
            try:
                with self._tracer.start_as_current_span(
                    "analysis worker",
                    attributes={
                        "process.pid": worker.process.pid or 0,
                        "analysis.rows": len(frame),
                    },
                ) as span:
                    answer = await self._exchange(worker, operation, frame, parameters, progress)
                    _record(self._tracer, span, answer[2], worker.process.pid or 0)
            except TimeoutError:
                raise AnalysisFailed(
                    f"the analysis ran past its limit of {self._seconds:g} seconds"
                ) from None
            except EOFError:
                raise AnalysisFailed("the analysis worker died") from None
            healthy = True
        finally:
            self._give_back(idle, worker, healthy=healthy)
        outcome, value, _ = answer
        if outcome == "invalid":
            raise InvalidAnalysis(value)
        if outcome == "error":
            log.error("analysis: %s", value)
            raise AnalysisFailed(f"the analysis failed: {value}")
        result: JSON = value
        return result

    def _give_back(self, idle: asyncio.Queue[_Worker], worker: _Worker, *, healthy: bool) -> None:
        """The job's slot back to the pool, without awaiting: a cancellation that came while
        this awaited (a second ``cancelAnalysis``, or the gateway stopping) would lose the slot
        for good, and with every slot lost every later job stays QUEUED. A worker that may still
        be computing (timed out, cancelled, dead) is killed, and its replacement started by a
        task of the runner's, which puts it in the pool when it is ready."""
        if healthy:
            idle.put_nowait(worker)
            return
        self._retire(worker)
        replacing = asyncio.create_task(self._replace(idle), name="analysis-worker-replacement")
        self._replacing.add(replacing)
        replacing.add_done_callback(self._replacing.discard)

    async def _replace(self, idle: asyncio.Queue[_Worker]) -> None:
        try:
            worker = await asyncio.to_thread(self._spawn)
        except Exception:
            log.exception("analysis: a worker could not be started; one job fewer runs at once")
            return
        if self._idle is idle:
            idle.put_nowait(worker)
        else:  # the runner closed while the worker started
            self._retire(worker)

    async def _exchange(
        self,
        worker: _Worker,
        operation: Operation,
        frame: pd.DataFrame,
        parameters: Parameters,
        progress: Progress,
    ) -> tuple[str, Any, Phases]:
        """Send the work, pass its progress on, and return the worker's answer: (outcome, result
        or message, the worker's phases), within the time limit."""
        async with asyncio.timeout(self._seconds):
            await asyncio.to_thread(worker.connection.send, (operation, parameters))
            await asyncio.to_thread(_send_frame, worker.connection, frame)
            while True:
                answer: tuple[Any, ...] = await asyncio.to_thread(worker.connection.recv)
                if answer[0] != "progress":
                    break
                progress(answer[1])
            outcome, value, phases = answer
            if outcome == "ok":
                value = await asyncio.to_thread(_receive_result, worker.connection, value)
            return outcome, value, phases

    async def close(self) -> None:
        self._idle = None  # a replacement still starting is retired once it is ready
        if self._replacing:
            await asyncio.wait(list(self._replacing))
        for worker in list(self._all):
            with contextlib.suppress(OSError):
                worker.connection.close()
            await asyncio.to_thread(self._retire, worker)


def _record(tracer: Tracer, parent: Span, phases: Phases, pid: int) -> None:
    """The worker's phases as spans under ``parent``, with the times the worker measured."""
    context = trace.set_span_in_context(parent)
    for what, start, end in phases:
        span = tracer.start_span(
            what, context=context, start_time=start, attributes={"process.pid": pid}
        )
        span.end(end_time=end)
