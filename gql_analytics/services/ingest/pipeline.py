"""In-process ingest: records from mutations, committed in groups, then published live.

Concurrent mutations are gathered into one store transaction (group commit), because a DuckDB
transaction costs about the same for ten records as for a thousand. A caller's ``submit`` returns
once the transaction holding its records has committed, so a query right after sees them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from gql_analytics.domain.records import Batch, Record
from gql_analytics.errors import ShuttingDown
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import LiveBus, Store
from gql_analytics.services.ingest.changes import changes_of, publish

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    records: Sequence[Record]
    done: asyncio.Future[None] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )


class IngestPipeline:
    def __init__(
        self,
        store: Store,
        bus: LiveBus,
        *,
        max_batch: int = 10_000,
        metrics: Metrics | None = None,
    ) -> None:
        self._metrics = metrics
        self._store = store
        self._bus = bus
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending] = asyncio.Queue()
        self._worker: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self._worker = asyncio.create_task(self._run(), name="ingest-pipeline")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            self._worker = None
        while not self._queue.empty():
            pending = self._queue.get_nowait()
            pending.done.set_exception(ShuttingDown("the gateway is shutting down"))

    async def submit(self, records: Sequence[Record], *, wait: bool = True) -> None:
        """Return once the records are committed (``wait`` changes nothing: they always are)."""
        if not records:
            return
        if self._worker is None:
            raise ShuttingDown("the gateway is not taking records: its ingest is stopped")
        pending = _Pending(records)
        await self._queue.put(pending)
        await pending.done

    async def _run(self) -> None:
        while True:
            group = [await self._queue.get()]
            size = len(group[0].records)
            while size < self._max_batch and not self._queue.empty():
                group.append(self._queue.get_nowait())
                size += len(group[-1].records)
            await self._commit(group)

    async def _commit(self, group: list[_Pending]) -> None:
        records = [record for pending in group for record in pending.records]
        started = time.perf_counter()
        try:
            result = await self._store.apply(Batch(records))
        except BaseException as error:
            if isinstance(error, Exception):
                log.warning(
                    "ingest: a batch of %d records was not applied: %r", len(records), error
                )
            failure = (
                error
                if isinstance(error, Exception)
                else ShuttingDown("the gateway is shutting down")
            )
            for pending in group:
                if not pending.done.done():
                    pending.done.set_exception(failure)
            if isinstance(error, Exception):
                return
            raise
        if self._metrics is not None:
            self._metrics.apply_seconds.observe(time.perf_counter() - started)
            self._metrics.batch_size.observe(len(records))
            self._metrics.records.labels("applied").inc(len(result.applied))
            self._metrics.records.labels("duplicate").inc(result.duplicates)
        for pending in group:
            if not pending.done.done():
                pending.done.set_result(None)
        await publish(self._bus, changes_of(result.applied, with_events=True))
