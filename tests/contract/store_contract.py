"""The Store contract: every adapter runs these tests unchanged (subclass and give a ``store``)."""

from __future__ import annotations

import asyncio
import math
import random
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from gql_analytics.domain.jobs import QUEUED, RUNNING, SUCCEEDED, AnalysisJob
from gql_analytics.domain.keys import new_key
from gql_analytics.domain.records import Batch, Event, MetricPoint, SourcePosition
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.stats import PERCENTILES, BucketStats
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import (
    Dependency,
    EventCursor,
    EventQuery,
    JobCursor,
    MessageBatch,
    PartitionMessages,
    Store,
)
from tests.contract.ingest import message_ingest

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DAY = TimeRange(T0 - timedelta(hours=12), T0 + timedelta(hours=12))


def event(
    id: str,
    minutes: float,
    name: str = "login",
    user: str | None = "u1",
    tenant: str = "default",
    **properties: object,
) -> Event:
    return Event(
        id=id,
        name=name,
        tenant=tenant,
        occurred_at=T0 + timedelta(minutes=minutes),
        received_at=T0,
        user_id=user,
        properties=properties,
    )


def point(id: str, minutes: float, value: float, name: str = "latency", **tags: str) -> MetricPoint:
    return MetricPoint(id, name, value, "default", T0 + timedelta(minutes=minutes), T0, tags)


def utc(moments: Collection[Any]) -> list[datetime | None]:
    """Times as aware datetimes, whichever way a store gives them (datetime or datetime64)."""
    converted = pd.to_datetime(list(moments), utc=True)
    return [None if pd.isna(m) else m.to_pydatetime() for m in converted]


class Halfway(Exception):
    """The failure a batch meets halfway through its writes."""


FailHalfway = Callable[[], AbstractContextManager[None]]
"""Within it, the store's next ``apply`` fails with ``Halfway`` after its raw records are
written and before its rollups and positions are."""


class StoreContract:
    @pytest.fixture
    def store(self) -> Store:
        raise NotImplementedError("an adapter's test class overrides this fixture")

    @pytest.fixture
    def fail_halfway(self, store: Store, monkeypatch: pytest.MonkeyPatch) -> FailHalfway:
        raise NotImplementedError("an adapter's test class says how a write fails halfway")

    async def counts(
        self, store: Store, name: str, window: TimeRange, interval: Interval | None
    ) -> dict[datetime | None, int]:
        """Counts per bucket; the whole range's total under ``None``, checked against the buckets."""
        series = await store.series("default", EVENT, [name])
        stats = await store.rollup_stats({s.id: name for s in series}, window, interval)
        counts = {bucket: s.count for (_, bucket), s in stats.items()}
        total = counts.pop(None, 0)
        if interval is None:
            assert counts == {}
            return {None: total}
        assert total == sum(counts.values())
        return dict(sorted(counts.items()))

    async def test_duplicate_event_is_counted_once(self, store: Store) -> None:
        first = await store.apply(Batch([event("a", 1), event("a", 1), event("b", 2)]))
        again = await store.apply(Batch([event("a", 1), event("c", 3)]))
        assert [r.id for r in first.applied] == ["a", "b"]
        assert first.duplicates == 1
        assert [r.id for r in again.applied] == ["c"]
        assert again.duplicates == 1
        assert await self.counts(store, "login", DAY, None) == {None: 3}
        assert await store.count_events(EventQuery("default")) == 3

    async def test_a_batch_failing_halfway_leaves_nothing(
        self, store: Store, fail_halfway: FailHalfway
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
        assert await self.counts(store, "login", DAY, None) == {None: 1}
        assert await store.series("default", EVENT, ["signup"]) == []
        assert await store.series("default", METRIC, ["latency"]) == []
        assert await store.positions("topic") == {0: 5}
        again = await store.apply(batch)  # nothing of it was kept: it all counts now, once
        assert sorted(r.id for r in again.applied) == ["also lost", "lost", "p"]
        assert await self.counts(store, "login", DAY, None) == {None: 2}
        assert await store.positions("topic") == {0: 9}

    async def test_a_version_moves_with_its_series_and_with_nothing_else(
        self, store: Store
    ) -> None:
        login = Dependency("default", EVENT, ("login",))
        any_event = Dependency("default", EVENT, None)
        other_tenant = Dependency("acme", EVENT, None)
        watched = [login, any_event, other_tenant]
        before = await store.versions(watched)
        await store.apply(Batch([event("a", 1)]))  # a login
        after_login = await store.versions(watched)
        assert [a != b for a, b in zip(before, after_login, strict=True)] == [True, True, False]
        await store.apply(Batch([event("a", 1)]))  # a duplicate: nothing new
        assert await store.versions(watched) == after_login
        await store.apply(Batch([event("s", 1, name="signup")]))
        after_signup = await store.versions(watched)
        assert after_signup[0] == after_login[0]  # another name: the login answers stay
        assert after_signup[1] != after_login[1]
        at = int(T0.timestamp() * 1000)
        messages = MessageBatch(
            [PartitionMessages("t", 0, [0], [at], [b'{"event": "login", "id": "k"}'])]
        )
        ingest, _ = message_ingest(store, T0 + timedelta(minutes=2))
        await ingest.apply(await ingest.prepare(messages))  # the consumer's way in
        after_kafka = await store.versions(watched)
        assert after_kafka[0] != after_signup[0]
        assert after_kafka[2] == before[2]

    async def test_raw_messages_apply_once_and_poison_is_named_first(self, store: Store) -> None:
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
        assert await self.counts(store, "login", DAY, None) == {None: 1}
        again = await ingest.apply(await ingest.prepare(batch))
        assert (again.applied, again.duplicates) == (0, 2)
        assert await self.counts(store, "login", DAY, None) == {None: 1}

    async def test_batches_prepared_side_by_side_apply_in_turn(self, store: Store) -> None:
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

    async def test_an_analysis_job_is_stored_updated_and_read_back(self, store: Store) -> None:
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

    async def test_api_keys_are_stored_found_by_id_listed_and_revoked(self, store: Store) -> None:
        text, key = new_key("acme", "read", T0, name="dashboards")
        _, other = new_key("globex", "admin", T0 + timedelta(seconds=1))
        await store.save_key(key)
        await store.save_key(other)
        assert text not in repr(await store.key(key.id))  # only its hash is kept
        assert await store.key(key.id) == key
        assert await store.key("nope") is None
        assert await store.keys("acme") == [key]
        assert await store.keys() == [key, other]
        revoked = replace(key, revoked_at=T0 + timedelta(hours=1))
        await store.save_key(revoked)
        assert await store.key(key.id) == revoked

    async def test_analysis_jobs_list_newest_first_by_page_within_a_tenant(
        self, store: Store
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

    async def test_a_discarded_batch_leaves_nothing(self, store: Store) -> None:
        at = int(T0.timestamp() * 1000)
        batch = MessageBatch([PartitionMessages("t", 0, [1], [at], [b'{"event": "login"}'])])
        ingest, _ = message_ingest(store, T0)
        await ingest.discard(await ingest.prepare(batch))
        assert await store.count_events(EventQuery("default")) == 0
        assert await store.positions("t") == {}

    async def test_counts_are_kept_per_minute_and_hour(self, store: Store) -> None:
        await store.apply(
            Batch([event(str(i), m) for i, m in enumerate([0, 0.5, 59, 61, 125, 125.9])])
        )
        window = TimeRange(T0, T0 + timedelta(hours=3))
        assert await self.counts(store, "login", window, Interval.HOUR) == {
            T0: 3,
            T0 + timedelta(hours=1): 1,
            T0 + timedelta(hours=2): 2,
        }
        assert await self.counts(store, "login", window, Interval.MINUTE) == {
            T0: 2,
            T0 + timedelta(minutes=59): 1,
            T0 + timedelta(minutes=61): 1,
            T0 + timedelta(minutes=125): 2,
        }

    async def test_range_is_half_open_and_edges_use_minutes(self, store: Store) -> None:
        await store.apply(Batch([event(str(i), m) for i, m in enumerate([-1, 0, 30, 89, 90, 150])]))
        window = TimeRange(T0, T0 + timedelta(minutes=90))
        assert sum((await self.counts(store, "login", window, Interval.HOUR)).values()) == 3
        assert await self.counts(
            store, "login", TimeRange(T0 + timedelta(minutes=30), T0 + timedelta(minutes=151)), None
        ) == {None: 4}

    async def test_metric_statistics_match_the_values(self, store: Store) -> None:
        values = [float(v) for v in range(1, 1001)]
        await store.apply(Batch([point(f"p{i}", i % 120, v) for i, v in enumerate(values)]))
        series = await store.series("default", METRIC, ["latency"])
        stats = await store.rollup_stats(
            {s.id: "" for s in series}, DAY, None, quantiles=PERCENTILES
        )
        whole = stats[("", None)]
        assert (whole.count, whole.total, whole.low, whole.high) == (1000, sum(values), 1.0, 1000.0)
        assert whole.sum_squares == pytest.approx(math.fsum(v * v for v in values))
        p50, p90, p95, p99 = whole.percentiles()
        for estimate, exact in ((p50, 500.0), (p90, 900.0), (p95, 950.0), (p99, 990.0)):
            assert estimate == pytest.approx(exact, rel=0.01)

    async def test_quantile_bins_are_chosen_exactly_as_the_sketch_chooses(
        self, store: Store
    ) -> None:
        rng = random.Random(3)
        values = [rng.choice((-1, 1, 1, 1)) * rng.lognormvariate(3, 2) for _ in range(3000)]
        values[:7] = [0.0] * 7
        await store.apply(
            Batch(
                [
                    point(f"q{i}", i % 300, v, region=("eu", "us", "ap")[i % 3])
                    for i, v in enumerate(values)
                ]
            )
        )
        qs = (0.0, 0.001, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0)
        series = await store.series("default", METRIC, ["latency"])
        merged = await store.rollup_stats({s.id: "" for s in series}, DAY, None, quantiles=qs)
        expected = BucketStats.of(values).summary(qs)
        assert merged[("", None)].quantile_bins == expected.quantile_bins
        assert merged[("", None)].percentiles(qs) == expected.percentiles(qs)
        hourly = await store.rollup_stats(
            {s.id: "" for s in series}, DAY, Interval.HOUR, quantiles=qs
        )
        for hour in range(5):
            start = T0 + timedelta(hours=hour)
            in_hour = [v for i, v in enumerate(values) if hour * 60 <= i % 300 < hour * 60 + 60]
            assert (
                hourly[("", start)].quantile_bins
                == BucketStats.of(in_hour).summary(qs).quantile_bins
            )

    async def test_series_are_split_by_tags_and_grouped_by_label(self, store: Store) -> None:
        await store.apply(
            Batch(
                [
                    point("1", 1, 10.0, region="eu"),
                    point("2", 2, 30.0, region="eu"),
                    point("3", 3, 100.0, region="us"),
                    point("4", 4, 7.0, name="other", region="us"),
                ]
            )
        )
        series = await store.series("default", METRIC, ["latency"])
        assert sorted(dict(s.key.tags)["region"] for s in series) == ["eu", "us"]
        labels = {s.id: dict(s.key.tags)["region"] for s in series}
        stats = await store.rollup_stats(labels, DAY, None, quantiles=PERCENTILES)
        assert {label: (s.count, s.total) for (label, _), s in stats.items()} == {
            "eu": (2, 40.0),
            "us": (1, 100.0),
        }
        everything = await store.series("default", METRIC)
        assert sorted((s.key.name, s.key.tags, s.count) for s in everything) == [
            ("latency", (("region", "eu"),), 2),
            ("latency", (("region", "us"),), 1),
            ("other", (("region", "us"),), 1),
        ]
        assert sum(s.count for s in everything) == 4
        assert max(s.last_seen for s in everything if s.last_seen) == T0 + timedelta(minutes=4)

    async def test_active_users_are_distinct_per_bucket_and_over_the_range(
        self, store: Store
    ) -> None:
        await store.apply(
            Batch(
                [
                    event("1", 1, user="a"),
                    event("2", 2, user="a"),
                    event("3", 70, user="a"),
                    event("4", 71, user="b"),
                    event("5", 72, user=None),
                ]
            )
        )
        total, per_hour = await store.active_users("default", DAY, Interval.HOUR)
        assert total == 2
        assert per_hour == {T0: 1, T0 + timedelta(hours=1): 2}

    async def test_events_are_listed_newest_first_and_paged_by_cursor(self, store: Store) -> None:
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

    async def test_events_are_filtered_by_every_condition(self, store: Store) -> None:
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

    async def test_tenants_never_see_each_other(self, store: Store) -> None:
        await store.apply(Batch([event("same-id", 1, tenant="a"), event("same-id", 1, tenant="b")]))
        assert await store.event("a", "same-id") is not None
        assert await store.event("c", "same-id") is None
        assert await store.count_events(EventQuery("a")) == 1
        assert [s.key.tenant for s in await store.series("b", EVENT)] == ["b"]

    async def test_task_completion_times_hold_whatever_the_arrival_order(
        self, store: Store
    ) -> None:
        completed = Event(
            "c1",
            "task_completed",
            "default",
            T0 + timedelta(minutes=90),
            T0,
            "u1",
            None,
            {"task_id": "t1"},
        )
        created = Event("c0", "task_created", "default", T0, T0, "u1", None, {"task_id": "t1"})
        other = Event("c2", "task_created", "default", T0, T0, "u2", None, {"taskId": "t2"})
        await store.apply(Batch([completed]))
        await store.apply(Batch([created, other]))
        users, more, total = await store.tasks_per_user("default", DAY, 10, None)
        assert [
            (u.user_id, u.created, u.completed, u.open, u.avg_completion_seconds) for u in users
        ] == [
            ("u1", 1, 1, 0, 5400.0),
            ("u2", 1, 0, 1, None),
        ]
        assert (more, total) == (False, 2)
        users, more, total = await store.tasks_per_user("default", DAY, 1, "u1")
        assert [u.user_id for u in users] == ["u2"]
        summary = await store.task_summary("default", DAY, None)
        assert (summary.created, summary.completed, summary.avg_completion_seconds) == (
            2,
            1,
            5400.0,
        )
        assert summary.p50_completion_seconds == 5400.0
        assert (await store.task_summary("default", DAY, "u2")).completed == 0

    async def test_user_activity_counts_events_per_name_and_active_days(self, store: Store) -> None:
        day = 24 * 60
        await store.apply(
            Batch(
                [
                    event("a", 1, "login", "u2"),
                    event("b", 2, "login", "u2"),
                    event("c", 3, "search", "u2"),
                    event("d", 4 + day, "login", "u2"),  # another day, outside DAY
                    event("e", -60, "login", "u1"),
                    event("f", 60, "search", "u1"),
                    event("g", 5, "login", None),  # anonymous: no user to describe
                    event("h", 6, "login", "u3", tenant="other"),
                ]
            )
        )
        week = TimeRange(T0 - timedelta(days=1), T0 + timedelta(days=2))
        activity = await store.user_activity("default", week, 10)
        assert list(activity.users) == ["u1", "u2"]
        assert list(activity.active_days) == [1, 2]
        assert {name: list(n) for name, n in activity.events.items()} == {
            "login": [1, 3],
            "search": [1, 1],
        }
        assert activity.more is False
        first = await store.user_activity("default", DAY, 1)
        assert (list(first.users), list(first.active_days), first.more) == (["u1"], [1], True)
        assert {name: list(n) for name, n in first.events.items()} == {
            "login": [1],
            "search": [1],
        }
        nobody = await store.user_activity("nobody", week, 10)
        assert (list(nobody.users), dict(nobody.events), nobody.more) == ([], {}, False)

    async def test_tasks_created_in_a_range_are_listed_oldest_first(self, store: Store) -> None:
        def task(id: str, name: str, minutes: float, task: str, user: str = "u1") -> Event:
            return event(id, minutes, name, user, task_id=task)

        await store.apply(
            Batch(
                [
                    task("a", "task_created", 10, "t2", "u2"),
                    task("b", "task_created", 5, "t1"),
                    task("c", "task_completed", 65, "t1"),
                    task("d", "task_created", 60 * 24, "t3"),  # created outside DAY
                ]
            )
        )
        tasks = await store.tasks("default", DAY, 10)
        assert list(tasks.task_ids) == ["t1", "t2"]
        assert list(tasks.user_ids) == ["u1", "u2"]
        assert list(tasks.statuses) == ["completed", "open"]
        assert utc(tasks.created_at) == [T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)]
        assert utc(tasks.completed_at) == [T0 + timedelta(minutes=65), None]
        assert tasks.more is False
        first = await store.tasks("default", DAY, 1)
        assert (list(first.task_ids), first.more) == (["t1"], True)
        nothing = await store.tasks("other", DAY, 10)
        assert (list(nothing.task_ids), nothing.more) == ([], False)

    async def test_positions_are_committed_with_the_batch_and_only_move_forward(
        self, store: Store
    ) -> None:
        await store.apply(
            Batch([event("1", 1)], [SourcePosition("topic", 0, 10), SourcePosition("topic", 1, 4)])
        )
        await store.apply(Batch([], [SourcePosition("topic", 0, 7)]))
        assert await store.positions("topic") == {0: 10, 1: 4}
        assert await store.positions("elsewhere") == {}

    async def test_a_rewind_moves_a_position_back_and_batches_move_it_on_from_there(
        self, store: Store
    ) -> None:
        await store.apply(
            Batch([], [SourcePosition("topic", 0, 100), SourcePosition("topic", 1, 4)])
        )
        await store.rewind("topic", 0, 0)
        assert await store.positions("topic") == {0: 0, 1: 4}
        await store.apply(Batch([], [SourcePosition("topic", 0, 30)]))
        assert await store.positions("topic") == {0: 30, 1: 4}
        await store.rewind("fresh", 2, 5)  # a partition it never had
        assert await store.positions("fresh") == {2: 5}

    async def test_purge_removes_raw_records_but_keeps_rollups(self, store: Store) -> None:
        await store.apply(Batch([event("old", -120), event("new", 0)]))
        assert await store.purge_raw(T0 - timedelta(minutes=60)) == 1
        assert await store.event("default", "old") is None
        assert await store.event("default", "new") is not None
        assert await self.counts(store, "login", DAY, None) == {None: 2}

    async def test_ping_answers_when_the_store_is_up(self, store: Store) -> None:
        await store.ping()
