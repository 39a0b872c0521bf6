"""The retention contract: raw records past it are forgotten, their rollups stay."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gql_analytics.domain.records import Batch
from gql_analytics.ports import EventReader, RecordWriter, Retention, RollupReader
from tests.contract.roles.records import DAY, T0, counts, event


class Purged(RecordWriter, Retention, EventReader, RollupReader, Protocol):
    """A purge, and what shows what it left: raw events and rollups."""


class RetentionContract:
    """``Retention``, on the ``store`` an adapter's test class gives."""

    async def test_purge_removes_raw_records_but_keeps_rollups(self, store: Purged) -> None:
        await store.apply(Batch([event("old", -120), event("new", 0)]))
        assert await store.purge_raw(T0 - timedelta(minutes=60)) == 1
        assert await store.event("default", "old") is None
        assert await store.event("default", "new") is not None
        assert await counts(store, "login", DAY, None) == {None: 2}
