"""Rollup arithmetic: a batch of new records as per-series, per-bucket deltas.

A store adds these deltas to what it holds; since every field merges by addition (or min/max),
applying the deltas of two batches equals applying the deltas of their union.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.domain.stats import BucketStats
from gql_analytics.domain.tasks import TaskDelta, fold_task_facts
from gql_analytics.domain.timerange import LEVELS, bucket_of

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
    def of(cls, record: Record) -> SeriesKey:
        if isinstance(record, Event):
            return cls(record.tenant, EVENT, record.name)
        return cls(record.tenant, METRIC, record.name, tuple(sorted(record.tags.items())))

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


def rollup(records: Iterable[Record]) -> Rollup:
    # The hot path of ingest: plain tuples and local caches inside the loop, dataclasses after it.
    keys: dict[tuple[str, str, tuple[tuple[str, str], ...]], tuple[SeriesKey, int]] = {}
    counts: defaultdict[SeriesKey, int] = defaultdict(int)
    last_seen: dict[SeriesKey, datetime] = {}
    values: defaultdict[tuple[int, timedelta, datetime], list[float]] = defaultdict(list)
    hits: defaultdict[tuple[int, timedelta, datetime], int] = defaultdict(int)
    presence: set[Presence] = set()
    events: list[Event] = []
    for record in records:
        tags = tuple(record.tags.items()) if isinstance(record, MetricPoint) else ()
        cache_key = (record.tenant, record.name, tags)
        known = keys.get(cache_key)
        if known is None:
            key = SeriesKey.of(record)
            known = keys[cache_key] = (key, key.id)
        key, series_id = known
        counts[key] += 1
        moment = record.occurred_at
        if key not in last_seen or moment > last_seen[key]:
            last_seen[key] = moment
        for level in LEVELS:
            bucket_start = bucket_of(moment, level)
            if isinstance(record, MetricPoint):
                values[(series_id, level, bucket_start)].append(record.value)
                continue
            hits[(series_id, level, bucket_start)] += 1
            if record.user_id is not None:
                presence.add(Presence(record.tenant, level, bucket_start, record.user_id))
        if isinstance(record, Event):
            events.append(record)
    buckets: dict[BucketKey, BucketStats] = {
        BucketKey(*bucket): BucketStats(count=n) for bucket, n in hits.items()
    }
    buckets.update((BucketKey(*bucket), BucketStats.of(vs)) for bucket, vs in values.items())
    series = {key: SeriesDelta(n, last_seen[key]) for key, n in counts.items()}
    return Rollup(series, buckets, frozenset(presence), fold_task_facts(events))
