"""The rollup reader's contract: versions that move with their series, counts per bucket, metric
statistics and quantile bins, series by tags, distinct users."""

from __future__ import annotations

import math
import random
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

import pytest

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.dimensions import OTHER
from gql_analytics.domain.records import Batch
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.stats import PERCENTILES, BucketStats
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import (
    Dependency,
    DimensionRepository,
    MessageBatch,
    PartitionMessages,
    RecordWriter,
    RollupReader,
)
from tests.contract.ingest import message_ingest
from tests.contract.roles.records import DAY, T0, counts, event, event_at, point, point_at


class RolledUp(RecordWriter, RollupReader, DimensionRepository, Protocol):
    """Rollups, the writer of the records they roll up, and the dimensions that split them."""


class RollupReaderContract:
    """``RollupReader``, on the ``store`` an adapter's test class gives."""

    async def test_a_version_moves_with_its_series_and_with_nothing_else(
        self, store: RolledUp
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

    async def test_counts_are_kept_per_minute_and_hour(self, store: RolledUp) -> None:
        await store.apply(
            Batch([event(str(i), m) for i, m in enumerate([0, 0.5, 59, 61, 125, 125.9])])
        )
        window = TimeRange(T0, T0 + timedelta(hours=3))
        assert await counts(store, "login", window, Interval.HOUR) == {
            T0: 3,
            T0 + timedelta(hours=1): 1,
            T0 + timedelta(hours=2): 2,
        }
        assert await counts(store, "login", window, Interval.MINUTE) == {
            T0: 2,
            T0 + timedelta(minutes=59): 1,
            T0 + timedelta(minutes=61): 1,
            T0 + timedelta(minutes=125): 2,
        }

    async def test_range_is_half_open_and_edges_use_minutes(self, store: RolledUp) -> None:
        await store.apply(Batch([event(str(i), m) for i, m in enumerate([-1, 0, 30, 89, 90, 150])]))
        window = TimeRange(T0, T0 + timedelta(minutes=90))
        assert sum((await counts(store, "login", window, Interval.HOUR)).values()) == 3
        assert await counts(
            store, "login", TimeRange(T0 + timedelta(minutes=30), T0 + timedelta(minutes=151)), None
        ) == {None: 4}

    async def test_metric_statistics_match_the_values(self, store: RolledUp) -> None:
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
        self, store: RolledUp
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
            {s.id: "" for s in series}, DAY, Calendar(Interval.HOUR), quantiles=qs
        )
        for hour in range(5):
            start = T0 + timedelta(hours=hour)
            in_hour = [v for i, v in enumerate(values) if hour * 60 <= i % 300 < hour * 60 + 60]
            assert (
                hourly[("", start)].quantile_bins
                == BucketStats.of(in_hour).summary(qs).quantile_bins
            )

    async def test_series_are_split_by_declared_tags_and_grouped_by_label(
        self, store: RolledUp
    ) -> None:
        await store.declare_dimensions("default", METRIC, ["region"], T0)
        await store.apply(
            Batch(
                [
                    point("1", 1, 10.0, region="eu", request="r1"),
                    point("2", 2, 30.0, region="eu", request="r2"),
                    point("3", 3, 100.0, region="us", request="r3"),
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

    async def test_a_declared_key_holds_at_most_its_max_values_on_every_write_path(
        self, store: RolledUp
    ) -> None:
        await store.declare_dimensions("default", EVENT, ["plan"], T0, max_values=2)
        await store.apply(Batch([event("1", 1, plan="free"), event("2", 2, plan="pro")]))
        at = int(T0.timestamp() * 1000)
        bodies = [
            b'{"event": "login", "id": "k1", "plan": "team"}',
            b'{"event": "login", "id": "k2", "plan": "pro"}',
            b'{"event": "login", "id": "k3", "plan": "max"}',
        ]
        messages = MessageBatch([PartitionMessages("t", 0, [0, 1, 2], [at] * 3, bodies)])
        ingest, _ = message_ingest(store, T0 + timedelta(minutes=2))
        await ingest.apply(await ingest.prepare(messages))  # the consumer's way in
        series = await store.series("default", EVENT)
        assert sorted((dict(s.key.tags)["plan"], s.count) for s in series) == [
            (OTHER, 2),
            ("free", 1),
            ("pro", 2),
        ]
        (plan,) = (await store.dimensions("default")).declared
        assert plan.overflowed

    async def test_an_undeclared_attribute_costs_no_series(self, store: RolledUp) -> None:
        await store.declare_dimensions("default", EVENT, ["plan"], T0)
        await store.apply(
            Batch(
                [point(str(i), i, 1.0, user=f"u{i}", request=f"r{i}") for i in range(50)]
                + [event(str(i), i, user=f"u{i}", plan=["free", "pro"][i % 2]) for i in range(50)]
            )
        )
        (metric,) = await store.series("default", METRIC)
        assert (metric.key.tags, metric.count) == ((), 50)
        events = await store.series("default", EVENT)
        assert sorted((s.key.tags, s.count) for s in events) == [
            ((("plan", "free"),), 25),
            ((("plan", "pro"),), 25),
        ]

    async def test_active_users_are_distinct_per_bucket_and_over_the_range(
        self, store: RolledUp
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
        total, per_hour = await store.active_users("default", DAY, Calendar(Interval.HOUR))
        assert total == 2
        assert per_hour == {T0: 1, T0 + timedelta(hours=1): 2}

    @pytest.mark.parametrize(
        ("zone", "around"),
        [
            ("Europe/Berlin", datetime(2026, 3, 29, 1, tzinfo=UTC)),  # 02:00 -> 03:00
            ("America/New_York", datetime(2026, 11, 1, 6, tzinfo=UTC)),  # 02:00 -> 01:00
            ("Asia/Kolkata", datetime(2026, 3, 31, 18, 30, tzinfo=UTC)),  # +5:30, a month's end
            ("Australia/Lord_Howe", datetime(2026, 10, 3, 15, 30, tzinfo=UTC)),  # 30 minutes on
            ("America/Havana", datetime(2026, 11, 1, 5, tzinfo=UTC)),  # midnight happens twice
        ],
    )
    async def test_counts_per_local_bucket_match_a_count_of_the_records(
        self, store: RolledUp, zone: str, around: datetime
    ) -> None:
        # An event every 7 minutes for three days around the change, the range's ends ragged.
        moments = [around + timedelta(minutes=7 * i) for i in range(-300, 320)]
        await store.apply(Batch([event_at(f"e{i}", m) for i, m in enumerate(moments)]))
        window = TimeRange(around - timedelta(hours=31, minutes=17), around + timedelta(hours=29))
        inside = [m for m in moments if window.start <= m < window.end]
        for interval in Interval:
            calendar = Calendar(interval, ZoneInfo(zone))
            expected = Counter(calendar.floor(m) for m in inside)
            assert await counts(store, "login", window, calendar) == dict(sorted(expected.items()))

    async def test_distinct_users_per_local_day_match_the_records(self, store: RolledUp) -> None:
        around = datetime(2026, 3, 8, 7, tzinfo=UTC)  # New York springs forward
        moments = [around + timedelta(minutes=13 * i) for i in range(-250, 250)]
        users = [f"u{i % 17 if m < around else i % 5}" for i, m in enumerate(moments)]
        await store.apply(
            Batch(
                [
                    event_at(f"e{i}", m, user=u)
                    for i, (m, u) in enumerate(zip(moments, users, strict=True))
                ]
            )
        )
        window = TimeRange(around - timedelta(days=2), around + timedelta(days=2))
        days = Calendar(Interval.DAY, ZoneInfo("America/New_York"))
        per_day: dict[datetime, set[str]] = {}
        for moment, user in zip(moments, users, strict=True):
            if window.start <= moment < window.end:
                per_day.setdefault(days.floor(moment), set()).add(user)
        total, counted = await store.active_users("default", window, days)
        assert counted == {day: len(found) for day, found in per_day.items()}
        assert total == len(set().union(*per_day.values()))

    async def test_metric_statistics_per_local_day_match_the_values(self, store: RolledUp) -> None:
        around = datetime(2026, 4, 4, 16, 30, tzinfo=UTC)  # Adelaide falls back from +10:30
        values = {around + timedelta(minutes=11 * i): float(i % 97) for i in range(-300, 300)}
        await store.apply(
            Batch([point_at(f"p{i}", m, v) for i, (m, v) in enumerate(values.items())])
        )
        window = TimeRange(around - timedelta(days=2), around + timedelta(days=2))
        days = Calendar(Interval.DAY, ZoneInfo("Australia/Adelaide"))
        series = await store.series("default", METRIC, ["latency"])
        stats = await store.rollup_stats({s.id: "" for s in series}, window, days, quantiles=(0.5,))
        per_day: dict[datetime, list[float]] = {}
        for moment, value in values.items():
            if window.start <= moment < window.end:
                per_day.setdefault(days.floor(moment), []).append(value)
        for day, found in per_day.items():
            expected = BucketStats.of(found).summary((0.5,))
            got = stats[("", day)]
            assert (got.count, got.quantile_bins) == (len(found), expected.quantile_bins)
            assert got.total == pytest.approx(sum(found))
        assert {bucket for _, bucket in stats} == {*per_day, None}
