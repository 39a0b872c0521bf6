"""The embedded default store: one DuckDB file (or memory), one transaction per batch.

DuckDB is synchronous; every call runs in a worker thread so the event loop never waits on it.
One connection writes (serialized by a lock); reads use a connection per thread, which DuckDB's
MVCC lets run beside the writer.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from gql_analytics.domain.records import ApplyResult, Batch, Event, MetricPoint, Record
from gql_analytics.domain.rollup import Rollup, SeriesKey, rollup
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import (
    EPOCH,
    LEVELS,
    WEEK_ORIGIN,
    Interval,
    TimeRange,
    segments,
)
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import EventCursor, EventQuery, SeriesInfo, TaskSummary, UserTaskCounts
from gql_analytics.store import duckdb_schema as sql

T = TypeVar("T")
Params = list[Any]


def _naive(moment: datetime) -> datetime:
    if moment.tzinfo is not UTC:
        moment = moment.astimezone(UTC)
    return moment.replace(tzinfo=None)


def _naive_all(moments: Iterable[datetime]) -> list[datetime]:
    """``_naive`` of each; receive times repeat across a batch, so each is converted once."""
    converted: dict[datetime, datetime] = {}
    return [converted.get(m) or converted.setdefault(m, _naive(m)) for m in moments]


def _aware(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.replace(tzinfo=UTC)


def _micros(width: timedelta) -> int:
    return width // timedelta(microseconds=1)


def _json(value: Mapping[str, Any]) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def _columns(rows: Iterable[Sequence[Any]], width: int) -> list[list[Any]]:
    columns: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        for column, cell in zip(columns, row, strict=True):
            column.append(cell)
    return columns


class _Bucketing:
    """SQL that maps a rollup row to its output bucket and keeps only the range's rows."""

    def __init__(self, time_range: TimeRange, interval: Interval | None) -> None:
        self.interval = interval
        self.origin = WEEK_ORIGIN if interval is Interval.WEEK else EPOCH
        self.pieces = list(segments(time_range, interval or Interval.HOUR))

    def rows(self, family: str, columns: str, where: str, params: Params) -> tuple[str, Params]:
        """The rows of each segment, read from its level's table of ``family``, as one relation
        (SQL and its parameters); ``where`` with ``params`` narrows every segment alike."""
        selects = " UNION ALL ".join(
            f"SELECT {columns} FROM {family}_{sql.LEVEL_NAMES[piece.level]} "
            f"WHERE {where} AND bucket_start >= ? AND bucket_start < ?"
            for piece in self.pieces
        )
        bounds = [
            p for piece in self.pieces for p in (*params, _naive(piece.start), _naive(piece.end))
        ]
        return selects, bounds

    @property
    def index_sql(self) -> str:
        if self.interval is None:
            return "0"
        origin_us = _micros(self.origin - EPOCH)
        return f"(epoch_us(bucket_start) - {origin_us}) // {_micros(self.interval.value)}"

    def bucket_of(self, index: int | None) -> datetime | None:
        """The output bucket of an index; ``None`` (the whole range) for the grand total."""
        if self.interval is None or index is None:
            return None
        return self.origin + index * self.interval.value


class DuckDBStore:
    def __init__(self, path: str = ":memory:") -> None:
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._connection = duckdb.connect(path)
        self._connection.execute(sql.SCHEMA)
        self._write_lock = threading.Lock()
        self._local = threading.local()
        self._readers: list[duckdb.DuckDBPyConnection] = []
        self._closed = False

    def _reader(self) -> duckdb.DuckDBPyConnection:
        cursor: duckdb.DuckDBPyConnection | None = getattr(self._local, "cursor", None)
        if cursor is None:
            cursor = self._connection.cursor()
            self._local.cursor = cursor
            with self._write_lock:
                self._readers.append(cursor)
        return cursor

    async def _run(self, work: Callable[[], T]) -> T:
        if self._closed:
            raise StoreUnavailable("store: closed")
        try:
            return await asyncio.to_thread(work)
        except duckdb.IOException as error:
            raise StoreUnavailable(f"store: {error}") from error

    def _rows(self, query: str, params: Params) -> list[tuple[Any, ...]]:
        rows: list[tuple[Any, ...]] = self._reader().execute(query, params).fetchall()
        return rows

    # -- write side ---------------------------------------------------------------------------

    async def apply(self, batch: Batch) -> ApplyResult:
        return await self._run(lambda: self._apply(batch))

    def _apply(self, batch: Batch) -> ApplyResult:
        firsts: dict[tuple[str, str, str], Record] = {}
        for record in batch.records:
            kind = "event" if isinstance(record, Event) else "metric"
            firsts.setdefault((kind, record.tenant, record.id), record)
        events = [r for r in firsts.values() if isinstance(r, Event)]
        points = [r for r in firsts.values() if isinstance(r, MetricPoint)]
        with self._write_lock:
            connection = self._connection
            connection.begin()
            try:
                new_events = self._insert_events(connection, events)
                new_points = self._insert_points(connection, points)
                applied = tuple(
                    r
                    for r in firsts.values()
                    if (r.tenant, r.id) in (new_events if isinstance(r, Event) else new_points)
                )
                self._write_rollup(connection, rollup(applied))
                if batch.positions:
                    connection.execute(
                        sql.UPSERT_POSITIONS,
                        _columns(
                            ((p.source, p.partition, p.next_offset) for p in batch.positions), 3
                        ),
                    )
                connection.commit()
            except BaseException:
                connection.rollback()
                raise
        return ApplyResult(applied=applied, duplicates=len(batch.records) - len(applied))

    @staticmethod
    def _insert_events(
        connection: duckdb.DuckDBPyConnection, events: list[Event]
    ) -> set[tuple[str, str]]:
        if not events:
            return set()
        columns = [
            [e.tenant for e in events],
            [e.id for e in events],
            [e.name for e in events],
            [e.user_id for e in events],
            [_naive(e.occurred_at) for e in events],
            _naive_all(e.received_at for e in events),
            [e.source for e in events],
            [_json(e.properties) for e in events],
        ]
        inserted = connection.execute(sql.INSERT_EVENTS, columns).fetchall()
        return set(inserted)

    @staticmethod
    def _insert_points(
        connection: duckdb.DuckDBPyConnection, points: list[MetricPoint]
    ) -> set[tuple[str, str]]:
        if not points:
            return set()
        tags_json: dict[tuple[tuple[str, str], ...], str] = {}
        for p in points:
            tags_json.setdefault(tuple(p.tags.items()), "")
        for tags in tags_json:
            tags_json[tags] = _json(dict(tags))
        columns = [
            [p.tenant for p in points],
            [p.id for p in points],
            [p.name for p in points],
            [p.value for p in points],
            [tags_json[tuple(p.tags.items())] for p in points],
            [_naive(p.occurred_at) for p in points],
            _naive_all(p.received_at for p in points),
        ]
        inserted = connection.execute(sql.INSERT_METRIC_POINTS, columns).fetchall()
        return set(inserted)

    @staticmethod
    def _write_rollup(connection: duckdb.DuckDBPyConnection, deltas: Rollup) -> None:
        if deltas.series:
            series_rows = (
                (k.id, k.tenant, k.kind, k.name, k.tags_json, d.count, _naive(d.last_seen))
                for k, d in deltas.series.items()
            )
            connection.execute(sql.UPSERT_SERIES, _columns(series_rows, 7))
        bucket_rows: dict[timedelta, list[tuple[Any, ...]]] = {level: [] for level in LEVELS}
        bin_rows: dict[timedelta, list[tuple[Any, ...]]] = {level: [] for level in LEVELS}
        for key, stats in deltas.buckets.items():
            start = _naive(key.bucket_start)
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
            presence_rows[p.level].append((p.tenant, _naive(p.bucket_start), p.user_id))
        for level in LEVELS:
            if bucket_rows[level]:
                connection.execute(sql.upsert_rollups(level), _columns(bucket_rows[level], 7))
            if bin_rows[level]:
                connection.execute(sql.upsert_bins(level), _columns(bin_rows[level], 4))
            if presence_rows[level]:
                connection.execute(sql.insert_presence(level), _columns(presence_rows[level], 3))
        if deltas.tasks:
            task_rows = (
                (
                    t.tenant,
                    t.task_id,
                    t.user_id,
                    t.created_at and _naive(t.created_at),
                    t.completed_at and _naive(t.completed_at),
                    t.status,
                    t.status_at and _naive(t.status_at),
                )
                for t in deltas.tasks.values()
            )
            connection.execute(sql.UPSERT_TASKS, _columns(task_rows, 7))

    async def positions(self, source: str) -> dict[int, int]:
        rows = await self._run(
            lambda: self._rows(
                "SELECT partition, next_offset FROM source_positions WHERE source = ?", [source]
            )
        )
        return dict(rows)

    async def purge_raw(self, before: datetime) -> int:
        def purge() -> int:
            with self._write_lock:
                cutoff = [_naive(before)]
                deleted = 0
                for table in ("events", "metric_points"):
                    row = self._connection.execute(
                        f"DELETE FROM {table} WHERE occurred_at < ?", cutoff
                    ).fetchone()
                    deleted += int(row[0]) if row else 0
                return deleted

        return await self._run(purge)

    # -- read side: rollups ---------------------------------------------------------------------

    async def series(
        self, tenant: str, kind: str, names: Sequence[str] | None = None
    ) -> list[SeriesInfo]:
        query = "SELECT series_id, name, tags, count, last_seen FROM series WHERE tenant = ? AND kind = ?"
        params: Params = [tenant, kind]
        if names is not None:
            query += " AND name IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(names))
        rows = await self._run(lambda: self._rows(query + " ORDER BY name, tags", params))
        return [
            SeriesInfo(
                key=SeriesKey(tenant, kind, name, tuple(sorted(json.loads(tags).items()))),
                id=series_id,
                count=count,
                last_seen=_aware(last_seen),
            )
            for series_id, name, tags, count, last_seen in rows
        ]

    async def rollup_stats(
        self,
        groups: Mapping[int, str],
        time_range: TimeRange,
        interval: Interval | None,
        *,
        quantiles: Sequence[float] = (),
    ) -> dict[tuple[str, datetime | None], BucketSummary]:
        if not groups:
            return {}
        bucketing = _Bucketing(time_range, interval)
        ids = list(groups)
        wanted = "series_id IN (SELECT unnest(?::BIGINT[]))"
        labels = "(SELECT unnest(?::BIGINT[]) AS series_id, unnest(?::VARCHAR[]) AS label)"
        label_params = [ids, list(groups.values())]
        stats_rows, stats_params = bucketing.rows(
            "rollups",
            "series_id, bucket_start, count, total, low, high, sum_squares",
            wanted,
            [ids],
        )
        stats_query = f"""
            SELECT label, {bucketing.index_sql} AS idx, sum(count), sum(total), min(low),
                   max(high), sum(sum_squares)
            FROM ({stats_rows}) JOIN {labels} USING (series_id)
            GROUP BY GROUPING SETS ((label, idx), (label))
        """
        bins_rows, bins_params = bucketing.rows(
            "bins", "series_id, bucket_start, bin, n", wanted, [ids]
        )
        # sketch.rank_bins in SQL: per output bucket, the first bin whose running count reaches
        # the nearest rank max(ceil(q * n), 1). Only those bins leave the database.
        chosen = ", ".join(
            f"min(bin) FILTER (WHERE running >= greatest(ceil({float(q)!r} * total), 1))"
            for q in quantiles
        )
        bins_query = f"""
            WITH merged AS (
                SELECT label, {bucketing.index_sql} AS idx, bin, sum(n) AS n
                FROM ({bins_rows}) JOIN {labels} USING (series_id)
                GROUP BY GROUPING SETS ((label, idx, bin), (label, bin))
            ), ranked AS (
                SELECT label, idx, bin,
                       sum(n) OVER (PARTITION BY label, idx ORDER BY bin
                                    ROWS UNBOUNDED PRECEDING) AS running,
                       sum(n) OVER (PARTITION BY label, idx) AS total
                FROM merged
            )
            SELECT label, idx, [{chosen}] FROM ranked GROUP BY ALL
        """

        def read() -> dict[tuple[str, datetime | None], BucketSummary]:
            ranks: dict[tuple[str, int | None], list[int | None]] = {}
            if quantiles:
                for label, index, bins in self._rows(bins_query, bins_params + label_params):
                    ranks[(label, index)] = bins
            result: dict[tuple[str, datetime | None], BucketSummary] = {}
            for label, index, count, total, low, high, squares in self._rows(
                stats_query, stats_params + label_params
            ):
                if interval is None and index is not None:
                    continue  # without an interval, the grand total is the only bucket
                chosen_bins = ranks.get((label, index), [None] * len(quantiles))
                result[(label, bucketing.bucket_of(index))] = BucketSummary(
                    count=int(count),
                    total=float(total),
                    low=float("inf") if low is None else low,
                    high=float("-inf") if high is None else high,
                    sum_squares=float(squares),
                    quantile_bins=dict(zip(quantiles, chosen_bins, strict=True)),
                )
            return result

        return await self._run(read)

    async def active_users(
        self, tenant: str, time_range: TimeRange, interval: Interval
    ) -> tuple[int, dict[datetime, int]]:
        bucketing = _Bucketing(time_range, interval)
        # The total spans the whole range, so hour rows serve it whatever the interval.
        whole = _Bucketing(time_range, None)

        def presence(of: _Bucketing) -> tuple[str, Params]:
            return of.rows("presence", "bucket_start, user_id", "tenant = ?", [tenant])

        def read() -> tuple[int, dict[datetime, int]]:
            rows, params = presence(bucketing)
            per_bucket = self._rows(
                f"SELECT {bucketing.index_sql}, count(DISTINCT user_id) FROM ({rows}) GROUP BY 1",
                params,
            )
            rows, params = presence(whole)
            (total,) = self._rows(f"SELECT count(DISTINCT user_id) FROM ({rows})", params)[0]
            return int(total), {
                bucketing.origin + i * interval.value: int(n) for i, n in per_bucket
            }

        return await self._run(read)

    # -- read side: raw events ------------------------------------------------------------------

    @staticmethod
    def _event_where(query: EventQuery) -> tuple[str, Params]:
        clauses = ["tenant = ?"]
        params: Params = [query.tenant]
        if query.names is not None:
            clauses.append("name IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(query.names))
        if query.user_id is not None:
            clauses.append("user_id = ?")
            params.append(query.user_id)
        if query.time_range is not None:
            clauses.append("occurred_at >= ? AND occurred_at < ?")
            params += [_naive(query.time_range.start), _naive(query.time_range.end)]
        for key, wanted in query.properties.items():
            clauses.append("json_extract(properties, ?) = ?::JSON")
            params += ['$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"', _json(wanted)]
        return " AND ".join(clauses), params

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        where, params = self._event_where(query)
        if after is not None:
            where += " AND (occurred_at < ? OR (occurred_at = ? AND id < ?))"
            params += [_naive(after.occurred_at), _naive(after.occurred_at), after.id]
        statement = f"""
            SELECT id, name, tenant, occurred_at, received_at, user_id, source, properties
            FROM events WHERE {where} ORDER BY occurred_at DESC, id DESC LIMIT {first + 1}
        """
        rows = await self._run(lambda: self._rows(statement, params))
        return [_event(row) for row in rows[:first]], len(rows) > first

    async def count_events(self, query: EventQuery) -> int:
        where, params = self._event_where(query)
        rows = await self._run(
            lambda: self._rows(f"SELECT count(*) FROM events WHERE {where}", params)
        )
        return int(rows[0][0])

    async def event(self, tenant: str, event_id: str) -> Event | None:
        rows = await self._run(
            lambda: self._rows(
                "SELECT id, name, tenant, occurred_at, received_at, user_id, source, properties "
                "FROM events WHERE tenant = ? AND id = ?",
                [tenant, event_id],
            )
        )
        return _event(rows[0]) if rows else None

    # -- read side: tasks -----------------------------------------------------------------------

    # NULL for open tasks (DuckDB's greatest() would turn NULL into 0).
    _SECONDS = (
        "CASE WHEN completed_at IS NOT NULL "
        "THEN greatest(date_diff('microsecond', created_at, completed_at) / 1e6, 0) END"
    )

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        where = "tenant = ? AND user_id IS NOT NULL AND created_at >= ? AND created_at < ?"
        params: Params = [tenant, _naive(time_range.start), _naive(time_range.end)]
        page_where, page_params = where, list(params)
        if after_user is not None:
            page_where += " AND user_id > ?"
            page_params.append(after_user)
        page = f"""
            SELECT user_id, count(*), count(completed_at), avg({self._SECONDS})
            FROM tasks WHERE {page_where} GROUP BY user_id ORDER BY user_id LIMIT {first + 1}
        """
        total = f"SELECT count(DISTINCT user_id) FROM tasks WHERE {where}"

        def read() -> tuple[list[UserTaskCounts], bool, int]:
            rows = self._rows(page, page_params)
            (count,) = self._rows(total, params)[0]
            users = [UserTaskCounts(u, int(c), int(d), a) for u, c, d, a in rows[:first]]
            return users, len(rows) > first, int(count)

        return await self._run(read)

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        where = "tenant = ? AND created_at >= ? AND created_at < ?"
        params: Params = [tenant, _naive(time_range.start), _naive(time_range.end)]
        if user_id is not None:
            where += " AND user_id = ?"
            params.append(user_id)
        statement = f"""
            SELECT count(*), count(completed_at), avg(s), quantile_cont(s, 0.5),
                   quantile_cont(s, 0.95)
            FROM (SELECT completed_at, {self._SECONDS} AS s FROM tasks WHERE {where})
        """
        rows = await self._run(lambda: self._rows(statement, params))
        created, completed, avg, p50, p95 = rows[0]
        return TaskSummary(int(created), int(completed), avg, p50, p95)

    # -- lifecycle ------------------------------------------------------------------------------

    async def ping(self) -> None:
        await self._run(lambda: self._rows("SELECT 1", []))

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            with self._write_lock:
                for reader in self._readers:
                    reader.close()
                self._connection.close()


def _event(row: tuple[Any, ...]) -> Event:
    event_id, name, tenant, occurred_at, received_at, user_id, source, properties = row
    return Event(
        id=event_id,
        name=name,
        tenant=tenant,
        occurred_at=occurred_at.replace(tzinfo=UTC),
        received_at=received_at.replace(tzinfo=UTC),
        user_id=user_id,
        source=source,
        properties=json.loads(properties),
    )
