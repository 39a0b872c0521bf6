"""The ingest layer's side of a committed batch: what subscribers hear, whatever the bus does."""

from __future__ import annotations

import sys
from datetime import UTC, datetime

import pytest

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.adapters.live import InProcessBus
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import Change, EventQuery, MessageBatch, PartitionMessages
from gql_analytics.services.ingest.messages import MessageIngest

NOW = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


class FailingOnce(InProcessBus):
    """A live bus that fails to take its first change."""

    def __init__(self) -> None:
        super().__init__()
        self.taken: list[Change] = []

    async def publish(self, change: Change) -> None:
        if not self.taken:
            self.taken.append(change)
            raise StoreUnavailable("live: the bus is away")
        self.taken.append(change)


@pytest.mark.parametrize("sql_from", [0, sys.maxsize], ids=["staged", "decoded"])
async def test_a_change_the_bus_fails_to_take_leaves_the_batch_applied_once(
    sql_from: int, caplog: pytest.LogCaptureFixture
) -> None:
    store = DuckDBStore(sql_from=sql_from)
    bus = FailingOnce()
    ingest = MessageIngest(store, bus, clock=lambda: NOW)
    at = int(NOW.timestamp() * 1000)
    values = [b'{"event": "signup", "id": "%d"}' % n for n in range(3)]
    batch = MessageBatch([PartitionMessages("t", 0, [0, 1, 2], [at] * 3, values)])
    result = await ingest.apply(await ingest.prepare(batch))
    assert (result.applied, result.duplicates) == (3, 0)
    assert await store.count_events(EventQuery("default")) == 3
    assert await store.positions("t") == {0: 3}
    assert "was not published" in caplog.text
    await store.close()
