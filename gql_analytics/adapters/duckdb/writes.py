"""One batch's writes, each inside the caller's transaction (``DuckDBStore.apply``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

import duckdb

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.values import columns, naive, naive_all, to_json
from gql_analytics.domain.records import Event, MetricPoint, SourcePosition
from gql_analytics.domain.rollup import Rollup
from gql_analytics.domain.timerange import LEVELS


def insert_events(
    connection: duckdb.DuckDBPyConnection, events: list[Event]
) -> set[tuple[str, str]]:
    if not events:
        return set()
    columns = [
        [e.tenant for e in events],
        [e.id for e in events],
        [e.name for e in events],
        [e.user_id for e in events],
        [naive(e.occurred_at) for e in events],
        naive_all(e.received_at for e in events),
        [e.source for e in events],
        [to_json(e.properties) for e in events],
    ]
    inserted = connection.execute(sql.INSERT_EVENTS, columns).fetchall()
    return set(inserted)


def insert_points(
    connection: duckdb.DuckDBPyConnection, points: list[MetricPoint]
) -> set[tuple[str, str]]:
    if not points:
        return set()
    tags_json: dict[tuple[tuple[str, str], ...], str] = {}
    for p in points:
        tags_json.setdefault(tuple(p.tags.items()), "")
    for tags in tags_json:
        tags_json[tags] = to_json(dict(tags))
    columns = [
        [p.tenant for p in points],
        [p.id for p in points],
        [p.name for p in points],
        [p.value for p in points],
        [tags_json[tuple(p.tags.items())] for p in points],
        [naive(p.occurred_at) for p in points],
        naive_all(p.received_at for p in points),
    ]
    inserted = connection.execute(sql.INSERT_METRIC_POINTS, columns).fetchall()
    return set(inserted)


def write_rollup(connection: duckdb.DuckDBPyConnection, deltas: Rollup) -> None:
    if deltas.series:
        series_rows = (
            (k.id, k.tenant, k.kind, k.name, k.tags_json, d.count, naive(d.last_seen))
            for k, d in deltas.series.items()
        )
        connection.execute(sql.UPSERT_SERIES, columns(series_rows, 7))
    bucket_rows: dict[timedelta, list[tuple[Any, ...]]] = {level: [] for level in LEVELS}
    bin_rows: dict[timedelta, list[tuple[Any, ...]]] = {level: [] for level in LEVELS}
    for key, stats in deltas.buckets.items():
        start = naive(key.bucket_start)
        has_values = bool(stats.bins)
        bucket_rows[key.level].append(
            (
                key.series_id,
                start,
                stats.count,
                stats.total,
                stats.low if has_values else None,
                stats.high if has_values else None,
                stats.sum_squares,
            )
        )
        bin_rows[key.level].extend(
            (key.series_id, start, bin_id, n) for bin_id, n in stats.bins.items()
        )
    presence_rows: dict[timedelta, list[tuple[Any, ...]]] = {level: [] for level in LEVELS}
    for p in deltas.presence:
        presence_rows[p.level].append((p.tenant, naive(p.bucket_start), p.user_id))
    for level in LEVELS:
        if bucket_rows[level]:
            connection.execute(sql.upsert_rollups(level), columns(bucket_rows[level], 7))
        if bin_rows[level]:
            connection.execute(sql.upsert_bins(level), columns(bin_rows[level], 4))
        if presence_rows[level]:
            connection.execute(sql.insert_presence(level), columns(presence_rows[level], 3))
    if deltas.tasks:
        task_rows = (
            (
                t.tenant,
                t.task_id,
                t.user_id,
                t.created_at and naive(t.created_at),
                t.completed_at and naive(t.completed_at),
                t.status,
                t.status_at and naive(t.status_at),
            )
            for t in deltas.tasks.values()
        )
        connection.execute(sql.UPSERT_TASKS, columns(task_rows, 7))


def write_positions(
    connection: duckdb.DuckDBPyConnection, positions: Sequence[SourcePosition]
) -> None:
    if positions:
        rows = ((p.source, p.partition, p.next_offset) for p in positions)
        connection.execute(sql.UPSERT_POSITIONS, columns(rows, 3))
