from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gql_analytics.domain.dimensions import OTHER, Capped, Declared, Dimensions
from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.domain.rollup import (
    EVENT,
    METRIC,
    BucketKey,
    Projection,
    SeriesKey,
    rollup,
)
from gql_analytics.domain.stats import BucketStats
from gql_analytics.domain.timerange import HOUR, MINUTE

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

records = st.one_of(
    st.builds(
        lambda minute, name, user: Event(
            f"e{minute}{name}{user}", name, "default", T0 + timedelta(minutes=minute), T0, user
        ),
        st.integers(0, 180),
        st.sampled_from(["login", "signup"]),
        st.sampled_from([None, "u1", "u2"]),
    ),
    st.builds(
        lambda minute, value, region: MetricPoint(
            "m", "latency", value, "default", T0 + timedelta(minutes=minute), T0, {"region": region}
        ),
        st.integers(0, 180),
        st.floats(0.1, 5000),
        st.sampled_from(["eu", "us"]),
    ),
)


@given(st.lists(records, max_size=40), st.lists(records, max_size=40))
def test_rollup_of_two_batches_merges_to_the_rollup_of_both(
    a: list[Record], b: list[Record]
) -> None:
    first, second, both = rollup(a), rollup(b), rollup(a + b)
    keys = set(first.buckets) | set(second.buckets)
    assert keys == set(both.buckets)
    for key in keys:
        merged = first.buckets.get(key, BucketStats()).merge(second.buckets.get(key, BucketStats()))
        assert merged.count == both.buckets[key].count
        assert merged.bins == both.buckets[key].bins
    assert first.presence | second.presence == both.presence


def test_each_record_counts_once_per_level() -> None:
    event = Event("e1", "login", "default", T0 + timedelta(minutes=61, seconds=5), T0, "u1")
    deltas = rollup([event])
    series_id = SeriesKey.of(event).id
    assert deltas.buckets == {
        BucketKey(series_id, MINUTE, T0 + timedelta(minutes=61)): BucketStats(count=1),
        BucketKey(series_id, HOUR, T0 + timedelta(hours=1)): BucketStats(count=1),
    }


def declaring(*keys: tuple[str, str, str]) -> Projection:
    declared = (Declared(tenant, kind, key, T0, T0) for tenant, kind, key in keys)
    return Dimensions(tuple(declared)).project


def test_series_ids_are_stable_and_ignore_tag_order() -> None:
    project = declaring(("t", METRIC, "a"), ("t", METRIC, "b"), ("other", METRIC, "a"))
    a = MetricPoint("1", "m", 1.0, "t", T0, T0, {"a": "1", "b": "2"})
    b = MetricPoint("2", "m", 2.0, "t", T0, T0, {"b": "2", "a": "1"})
    assert SeriesKey.of(a, project).id == SeriesKey.of(b, project).id
    other = MetricPoint("3", "m", 1.0, "other", T0, T0, {"a": "1", "b": "2"})
    assert SeriesKey.of(a, project).id != SeriesKey.of(other, project).id


def test_series_are_split_by_declared_keys_only() -> None:
    project = declaring(("t", METRIC, "region"), ("t", EVENT, "plan"))
    points = [
        MetricPoint(str(i), "latency", 1.0, "t", T0, T0, {"region": "eu", "request": str(i)})
        for i in range(10)
    ]
    events = [
        Event(str(i), "buy", "t", T0, T0, f"u{i}", properties={"plan": ["pro", 3][i % 2]})
        for i in range(10)
    ]
    series = rollup([*points, *events], project).series
    assert sorted((k.kind, k.tags) for k in series) == [
        (EVENT, (("plan", "3"),)),
        (EVENT, (("plan", "pro"),)),
        (METRIC, (("region", "eu"),)),
    ]


def test_a_metric_point_counts_once_in_the_series_of_its_declared_tags() -> None:
    points = [
        MetricPoint("1", "latency", 10.0, "default", T0, T0, {"region": "eu", "host": "a"}),
        MetricPoint("2", "latency", 30.0, "default", T0, T0, {"region": "eu", "host": "b"}),
        MetricPoint("3", "latency", 50.0, "default", T0, T0, {}),
    ]
    project = declaring(("default", METRIC, "region"))
    deltas = rollup(points, project)
    eu, untagged = SeriesKey.of(points[0], project), SeriesKey.of(points[2], project)
    assert {key: delta.count for key, delta in deltas.series.items()} == {eu: 2, untagged: 1}
    assert deltas.buckets[BucketKey(eu.id, MINUTE, T0)] == BucketStats.of([10.0, 30.0])


def test_an_event_and_a_metric_of_one_name_count_in_separate_series() -> None:
    deltas = rollup(
        [
            Event("e", "view", "default", T0, T0),
            MetricPoint("m", "view", 2.0, "default", T0, T0),
        ]
    )
    counts = {(key.kind, key.name): delta.count for key, delta in deltas.series.items()}
    assert counts == {("event", "view"): 1, ("metric", "view"): 1}


def test_a_declared_key_splits_by_at_most_its_max_values_and_the_rest_is_other() -> None:
    declared = Declared("t", EVENT, "plan", T0, T0, max_values=2)
    capping = Capped(Dimensions((declared,)), [("t", EVENT, {"plan": "pro"})])  # a series
    plans = ["free", "team", "pro", "enterprise", "free"]
    events = [
        Event(str(i), "buy", "t", T0, T0, properties={"plan": p}) for i, p in enumerate(plans)
    ]
    series = rollup(events, capping.project).series
    assert sorted((k.tags, d.count) for k, d in series.items()) == [
        ((("plan", OTHER),), 2),  # team and enterprise: pro and free took the two places
        ((("plan", "free"),), 2),
        ((("plan", "pro"),), 1),
    ]
    assert capping.overflowed == {("t", EVENT, "plan")}
