"""Rollup arithmetic: a batch of new records as per-series, per-bucket deltas.

A store adds these deltas to what it holds; since every field merges by addition (or min/max),
applying the deltas of two batches equals applying the deltas of their union.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gql_analytics.domain import sketch
from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.domain.stats import BucketStats
from gql_analytics.domain.tasks import TaskDelta, fold_task_facts
from gql_analytics.domain.timerange import LEVELS, bucket_of

Projection = Callable[[Record], tuple[tuple[str, str], ...]]
"""A record's values of its declared dimensions, sorted by key (``Dimensions.project``)."""

EVENT = "event"
METRIC = "metric"


@dataclass(frozen=True, slots=True)
class SeriesKey:
    """One series: what a dashboard line is drawn from. Events have no tags."""

    tenant: str
    kind: str
    name: str
    tags: tuple[tuple[str, str], ...] = ()

    @classmethod
    def of(cls, record: Record, project: Projection | None = None) -> SeriesKey:
        """The series of a record: its name's, split by the values ``project`` gives (its
        declared dimensions); by nothing else when no projection is given."""
        tags = () if project is None else project(record)
        return cls(record.tenant, EVENT if isinstance(record, Event) else METRIC, record.name, tags)

    @property
    def tags_json(self) -> str:
        return json.dumps(dict(self.tags), separators=(",", ":"), sort_keys=True)

    @property
    def id(self) -> int:
        """A stable 64-bit id, the same in every process and every store."""
        text = "\x1f".join((self.tenant, self.kind, self.name, self.tags_json))
        digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "big", signed=True)


@dataclass(frozen=True, slots=True)
class SeriesDelta:
    count: int
    last_seen: datetime


@dataclass(frozen=True, slots=True)
class BucketKey:
    series_id: int
    level: timedelta
    bucket_start: datetime


@dataclass(frozen=True, slots=True)
class Presence:
    """A user was active in a bucket of a level (for exact distinct counts of active users)."""

    tenant: str
    level: timedelta
    bucket_start: datetime
    user_id: str


@dataclass(frozen=True, slots=True)
class Rollup:
    series: Mapping[SeriesKey, SeriesDelta] = field(default_factory=dict)
    buckets: Mapping[BucketKey, BucketStats] = field(default_factory=dict)
    presence: frozenset[Presence] = frozenset()
    tasks: Mapping[tuple[str, str], TaskDelta] = field(default_factory=dict)


def rollup(records: Iterable[Record], project: Projection | None = None) -> Rollup:
    """The deltas of ``records``; ``project`` gives each record's values of its declared
    dimensions (``Dimensions.project``), which split its series."""
    # The hot path of ingest: ints and tuples as keys inside the loop, dataclasses after it. A
    # record counts in one series: its name's, split by its declared dimensions.
    targets: dict[tuple[bool, str, str, tuple[tuple[str, str], ...]], int] = {}
    keys: dict[int, SeriesKey] = {}
    counts: defaultdict[int, int] = defaultdict(int)
    last_seen: dict[int, datetime] = {}
    values: defaultdict[tuple[int, timedelta, datetime], list[float]] = defaultdict(list)
    bins: defaultdict[tuple[int, timedelta, datetime], list[int]] = defaultdict(list)
    hits: defaultdict[tuple[int, timedelta, datetime], int] = defaultdict(int)
    presence: set[Presence] = set()
    events: list[Event] = []
    for record in records:
        is_metric = isinstance(record, MetricPoint)
        tags = () if project is None else project(record)
        cache_key = (is_metric, record.tenant, record.name, tags)
        series_id = targets.get(cache_key)
        if series_id is None:
            key = SeriesKey(record.tenant, METRIC if is_metric else EVENT, record.name, tags)
            series_id = targets[cache_key] = key.id
            keys[series_id] = key
        moment = record.occurred_at
        starts = [(level, bucket_of(moment, level)) for level in LEVELS]
        counts[series_id] += 1
        seen = last_seen.get(series_id)
        if seen is None or moment > seen:
            last_seen[series_id] = moment
        if isinstance(record, MetricPoint):
            value = record.value
            bin_id = sketch.bin_of(value)
            for level, bucket_start in starts:
                bucket = (series_id, level, bucket_start)
                values[bucket].append(value)
                bins[bucket].append(bin_id)
            continue
        events.append(record)
        for level, bucket_start in starts:
            hits[(series_id, level, bucket_start)] += 1
            if record.user_id is not None:
                presence.add(Presence(record.tenant, level, bucket_start, record.user_id))
    buckets: dict[BucketKey, BucketStats] = {
        BucketKey(*bucket): BucketStats(count=n) for bucket, n in hits.items()
    }
    buckets.update(
        (BucketKey(*bucket), BucketStats.of(vs, bins[bucket])) for bucket, vs in values.items()
    )
    series = {keys[i]: SeriesDelta(n, last_seen[i]) for i, n in counts.items()}
    return Rollup(series, buckets, frozenset(presence), fold_task_facts(events))
