"""The record writer's contract: all or nothing, each (tenant, id) counted once, raw messages
through the ingest layer (decoded in Python, or staged by a store that offers ``MessageStager``)
with the same effect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol

import pytest

from gql_analytics.domain.records import Batch, SourcePosition
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.ports import (
    EventQuery,
    EventReader,
    MessageBatch,
    PartitionMessages,
    PositionKeeper,
    RecordWriter,
    RollupReader,
)
from tests.contract.ingest import message_ingest
from tests.contract.roles.records import DAY, T0, counts, event, point


class Halfway(Exception):
    """The failure a batch meets halfway through its writes."""


FailHalfway = Callable[[], AbstractContextManager[None]]
"""Within it, the store's next ``apply`` fails with ``Halfway`` after its raw records are
written and before its rollups and positions are."""


class WrittenAndRead(RecordWriter, PositionKeeper, RollupReader, EventReader, Protocol):
    """A record writer, and the readers that see what it wrote."""


class RecordWriterContract:
    """``RecordWriter``, on the ``store`` and ``fail_halfway`` an adapter's test class gives."""

    async def test_duplicate_event_is_counted_once(self, store: WrittenAndRead) -> None:
        first = await store.apply(Batch([event("a", 1), event("a", 1), event("b", 2)]))
        again = await store.apply(Batch([event("a", 1), event("c", 3)]))
        assert [r.id for r in first.applied] == ["a", "b"]
        assert first.duplicates == 1
        assert [r.id for r in again.applied] == ["c"]
        assert again.duplicates == 1
        assert await counts(store, "login", DAY, None) == {None: 3}
        assert await store.count_events(EventQuery("default")) == 3

    async def test_a_batch_failing_halfway_leaves_nothing(
        self, store: WrittenAndRead, fail_halfway: FailHalfway
    ) -> None:
        before = await store.apply(Batch([event("kept", 1)], [SourcePosition("topic", 0, 5)]))
        assert len(before.applied) == 1
        batch = Batch(
            [event("lost", 2), event("also lost", 3, name="signup"), point("p", 4, 1.5)],
            [SourcePosition("topic", 0, 9)],
        )
        with fail_halfway(), pytest.raises(Halfway):
            await store.apply(batch)
        assert await store.count_events(EventQuery("default")) == 1
        assert await counts(store, "login", DAY, None) == {None: 1}
        assert await store.series("default", EVENT, ["signup"]) == []
        assert await store.series("default", METRIC, ["latency"]) == []
        assert await store.positions("topic") == {0: 5}
        again = await store.apply(batch)  # nothing of it was kept: it all counts now, once
        assert sorted(r.id for r in again.applied) == ["also lost", "lost", "p"]
        assert await counts(store, "login", DAY, None) == {None: 2}
        assert await store.positions("topic") == {0: 9}

    async def test_raw_messages_apply_once_and_poison_is_named_first(
        self, store: WrittenAndRead
    ) -> None:
        at = int((T0 + timedelta(minutes=1)).timestamp() * 1000)
        values = [b'{"event": "login", "id": "a"}', b"not json", b'{"event": "login", "id": "a"}']
        batch = MessageBatch([PartitionMessages("t", 0, [5, 6, 7], [at] * 3, values)])
        ingest, bus = message_ingest(store, T0 + timedelta(minutes=2))

        prepared = await ingest.prepare(batch)
        assert [(r.key, r.reason) for r in prepared.rejected] == [(("t", 0, 6), "NOT_JSON")]
        assert await store.count_events(EventQuery("default")) == 0
        assert await store.positions("t") == {}

        applied = await ingest.apply(prepared)
        assert (applied.applied, applied.duplicates) == (1, 1)
        assert [(c.tenant, c.event_names) for c in bus.published] == [
            ("default", frozenset({"login"}))
        ]
        assert await store.positions("t") == {0: 8}
        assert await counts(store, "login", DAY, None) == {None: 1}
        again = await ingest.apply(await ingest.prepare(batch))
        assert (again.applied, again.duplicates) == (0, 2)
        assert await counts(store, "login", DAY, None) == {None: 1}

    async def test_batches_prepared_side_by_side_apply_in_turn(self, store: WrittenAndRead) -> None:
        at = int(T0.timestamp() * 1000)
        batches = [
            MessageBatch(
                [
                    PartitionMessages(
                        "t", 0, [offset], [at], [b'{"event": "login", "id": "%d"}' % (offset % 2)]
                    )
                ]
            )
            for offset in range(3)
        ]
        ingest, _ = message_ingest(store, T0)
        prepared = await asyncio.gather(*(ingest.prepare(b) for b in batches))
        results = [await ingest.apply(p) for p in prepared]
        assert [(r.applied, r.duplicates) for r in results] == [(1, 0), (1, 0), (0, 1)]
        assert await store.count_events(EventQuery("default")) == 2
        assert await store.positions("t") == {0: 3}

    async def test_a_discarded_batch_leaves_nothing(self, store: WrittenAndRead) -> None:
        at = int(T0.timestamp() * 1000)
        batch = MessageBatch([PartitionMessages("t", 0, [1], [at], [b'{"event": "login"}'])])
        ingest, _ = message_ingest(store, T0)
        await ingest.discard(await ingest.prepare(batch))
        assert await store.count_events(EventQuery("default")) == 0
        assert await store.positions("t") == {}
