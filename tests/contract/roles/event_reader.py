"""The event reader's contract: pages newest first, every filter, one tenant never seeing another."""

from __future__ import annotations

from datetime import timedelta
from typing import Protocol

from gql_analytics.domain.records import Batch
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import EventCursor, EventQuery, EventReader, RecordWriter, RollupReader
from tests.contract.roles.records import T0, event


class StoredEvents(RecordWriter, EventReader, RollupReader, Protocol):
    """Raw events, the writer that stores them, and (to see tenants apart) their series."""


class EventReaderContract:
    """``EventReader``, on the ``store`` an adapter's test class gives."""

    async def test_events_are_listed_newest_first_and_paged_by_cursor(
        self, store: StoredEvents
    ) -> None:
        await store.apply(Batch([event(f"e{i}", i) for i in range(5)]))
        query = EventQuery("default")
        page, more = await store.events(query, 2, None)
        assert [e.id for e in page] == ["e4", "e3"]
        assert more
        last = page[-1]
        page, more = await store.events(query, 2, EventCursor(last.occurred_at, last.id))
        assert [e.id for e in page] == ["e2", "e1"]
        assert more
        page, more = await store.events(query, 2, EventCursor(page[-1].occurred_at, page[-1].id))
        assert [e.id for e in page] == ["e0"]
        assert not more

    async def test_events_are_filtered_by_every_condition(self, store: StoredEvents) -> None:
        await store.apply(
            Batch(
                [
                    event("1", 1, name="purchase", user="a", plan="pro", amount=5),
                    event("2", 2, name="purchase", user="b", plan="free"),
                    event("3", 3, name="login", user="a", plan="pro"),
                    event("4", 300, name="purchase", user="a", plan="pro"),
                ]
            )
        )
        query = EventQuery(
            "default",
            names=("purchase",),
            user_id="a",
            properties={"plan": "pro"},
            time_range=TimeRange(T0, T0 + timedelta(hours=1)),
        )
        page, _ = await store.events(query, 10, None)
        assert [e.id for e in page] == ["1"]
        assert page[0].properties == {"plan": "pro", "amount": 5}
        assert await store.count_events(query) == 1
        assert await store.count_events(EventQuery("default", properties={"amount": 5})) == 1

    async def test_tenants_never_see_each_other(self, store: StoredEvents) -> None:
        await store.apply(Batch([event("same-id", 1, tenant="a"), event("same-id", 1, tenant="b")]))
        assert await store.event("a", "same-id") is not None
        assert await store.event("c", "same-id") is None
        assert await store.count_events(EventQuery("a")) == 1
        assert [s.key.tenant for s in await store.series("b", EVENT)] == ["b"]
