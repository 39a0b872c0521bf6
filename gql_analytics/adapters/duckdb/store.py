"""The embedded default store: one DuckDB file (or memory), one transaction per batch.

DuckDB is synchronous; every call runs in a worker thread so the event loop never waits on it.
One connection writes (serialized by a lock); reads use a connection per thread, which DuckDB's
MVCC lets run beside the writer; Kafka batches are prepared on cursors of their own (two, so
that two batches can be prepared at once) into an attached in-memory scratch database, beside
the writer too.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import queue
import re
import shutil
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import duckdb
import numpy as np

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.buckets import Bucketing, Params
from gql_analytics.adapters.duckdb.messages.apply import apply as apply_staged
from gql_analytics.adapters.duckdb.messages.stage import MACROS, Staged, stage
from gql_analytics.adapters.duckdb.values import EVENT_COLUMNS, aware, event_of, naive, to_json
from gql_analytics.adapters.duckdb.writes import (
    insert_events,
    insert_points,
    write_positions,
    write_rollup,
)
from gql_analytics.domain.jobs import AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.domain.records import ApplyResult, Batch, Event, MetricPoint, Record
from gql_analytics.domain.rollup import EVENT, METRIC, SeriesKey, rollup
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.domain.validation import Limits
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import (
    Dependency,
    EventCursor,
    EventQuery,
    JobCursor,
    MessageBatch,
    SeriesInfo,
    StagedMessages,
    StagedResult,
    TaskColumns,
    TaskSummary,
    UserActivity,
    UserTaskCounts,
    Version,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
PREPARERS = 2
SQL_FROM = 500
"""Kafka batches of at least so many messages are decoded in SQL; smaller ones in Python."""


def _connect(path: str) -> duckdb.DuckDBPyConnection:
    try:
        return duckdb.connect(path)
    except duckdb.IOException as error:
        if "lock" not in str(error):
            raise StoreUnavailable(f"duckdb: cannot open {path}: {error}") from error
        holder = re.search(r"PID (\d+)", str(error))
        by = f" (PID {holder.group(1)})" if holder else ""
        raise StoreUnavailable(
            f"the DuckDB file {path} is in use by another process{by}: stop it, or give this "
            "one a file of its own with --store (a DuckDB file serves one process at a time)"
        ) from error


class DuckDBStore:
    system = "duckdb"

    def __init__(
        self,
        path: str = ":memory:",
        *,
        sql_from: int = SQL_FROM,
        min_free_bytes: int = 0,
        free_bytes: Callable[[str], int] | None = None,
    ) -> None:
        """``min_free_bytes``: the least free space on the file's disk at which ``ping`` says
        writes can be taken (a full disk fails commits, not reads); ``free_bytes``: how it is
        measured (None: ``shutil.disk_usage``)."""
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._path = path
        self._sql_from = sql_from
        self._min_free_bytes = min_free_bytes
        self._free_bytes = free_bytes or (lambda where: shutil.disk_usage(where).free)
        self._connection = _connect(path)
        self._connection.execute(sql.SCHEMA)
        # Large Kafka batches are staged in memory (``stage_messages``).
        self._connection.execute("ATTACH ':memory:' AS scratch")
        # Two batches may be prepared at once, each on a cursor of its own.
        self._preparers: queue.SimpleQueue[duckdb.DuckDBPyConnection] = queue.SimpleQueue()
        self._all_preparers = [self._connection.cursor() for _ in range(PREPARERS)]
        for cursor in self._all_preparers:
            cursor.execute(MACROS)
            self._preparers.put(cursor)
        self._prepared = itertools.count(1)
        self._done: list[str] = []  # staged tables applied or discarded, to drop
        self._write_lock = threading.Lock()
        # Batches applied, by (tenant, kind, name), and by (tenant, kind, None) for any name:
        # the versions of ``versions``, counted under the write lock as each batch commits.
        self._applied: dict[tuple[str, str, str | None], int] = {}
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
        except (duckdb.IOException, duckdb.FatalException) as error:
            raise StoreUnavailable(f"store: {error}") from error

    def rows(self, query: str, params: Params) -> list[tuple[Any, ...]]:
        """Run a read query on this thread's connection (also for benchmarks and tools)."""
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

        def write(connection: duckdb.DuckDBPyConnection) -> tuple[Record, ...]:
            new_events = insert_events(connection, events)
            new_points = insert_points(connection, points)
            applied = tuple(
                r
                for r in firsts.values()
                if (r.tenant, r.id) in (new_events if isinstance(r, Event) else new_points)
            )
            write_rollup(connection, rollup(applied))
            write_positions(connection, batch.positions)
            return applied

        def touched(applied: tuple[Record, ...]) -> set[tuple[str, str, str]]:
            return {(r.tenant, EVENT if isinstance(r, Event) else METRIC, r.name) for r in applied}

        applied = self._transaction(write, touched)
        return ApplyResult(applied=applied, duplicates=len(batch.records) - len(applied))

    def _transaction(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        touched: Callable[[T], Iterable[tuple[str, str, str]]],
    ) -> T:
        """``work`` on the writer connection, committed if it returns, rolled back if it raises;
        once committed, the versions of the (tenant, kind, name) series it ``touched`` move."""
        with self._write_lock:
            connection = self._connection
            connection.begin()
            try:
                result = work(connection)
                connection.commit()
            except BaseException as error:
                _roll_back(connection)
                # A full disk fails the commit (the WAL cannot be written) with a
                # TransactionException, or a large write before it with an IOException.
                if isinstance(error, duckdb.IOException | duckdb.TransactionException):
                    log.error("store: the write was not committed: %s", error)
                    raise StoreUnavailable(
                        f"store: the write was not committed: {error}"
                    ) from error
                raise
            for tenant, kind, name in touched(result):
                for key in ((tenant, kind, name), (tenant, kind, None)):
                    self._applied[key] = self._applied.get(key, 0) + 1
        return result

    async def versions(self, dependencies: Sequence[Dependency]) -> list[Version]:
        """Counted in this process as batches commit: a DuckDB file is written by one process,
        this one, so they see every write; no query is needed."""
        applied = self._applied
        return [
            (applied.get((d.tenant, d.kind, None), 0),)
            if d.names is None
            else tuple(applied.get((d.tenant, d.kind, name), 0) for name in d.names)
            for d in dependencies
        ]

    def worth_staging(self, messages: int) -> bool:
        """From ``sql_from`` messages: for a few hundred, the staging query's fixed cost is more
        than decoding them in Python (~1 ms for 100 messages)."""
        return messages >= self._sql_from

    async def stage_messages(self, batch: MessageBatch, limits: Limits) -> StagedMessages:
        """Staged by SQL into the scratch database on a preparing cursor, beside the writer
        (``messages.stage``)."""

        def prepare() -> StagedMessages:
            cursor = self._preparers.get()
            try:
                self._drop_done(cursor)
                table = f"scratch.staged_{next(self._prepared)}"
                return stage(cursor, table, batch, limits)
            finally:
                self._preparers.put(cursor)

        return await self._run(prepare)

    async def apply_staged(self, staged: StagedMessages, *, with_events: bool) -> StagedResult:
        def apply() -> StagedResult:
            result = self._transaction(
                lambda connection: apply_staged(connection, staged, with_events),
                lambda result: result.series,
            )
            self._drop_staged(staged)
            return result

        return await self._run(apply)

    async def discard_staged(self, staged: StagedMessages) -> None:
        await self._run(lambda: self._drop_staged(staged))

    def _drop_staged(self, staged: StagedMessages) -> None:
        """A staged table is dropped by the next staging (or with the store), so that an apply
        never waits for the staging running beside it."""
        state = staged.state
        if not isinstance(state, Staged):
            raise TypeError("a batch staged by another store")
        self._done.append(state.table)

    def _drop_done(self, cursor: duckdb.DuckDBPyConnection) -> None:
        while self._done:
            try:
                table = self._done.pop()
            except IndexError:  # taken by the other preparation
                return
            cursor.execute(f"DROP TABLE IF EXISTS {table}")

    async def positions(self, source: str) -> dict[int, int]:
        rows = await self._run(
            lambda: self.rows(
                "SELECT partition, next_offset FROM source_positions WHERE source = ?", [source]
            )
        )
        return dict(rows)

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        row = [source, partition, next_offset]
        await self._run(
            lambda: self._transaction(lambda c: c.execute(sql.REWIND_POSITION, row), _nothing)
        )

    async def purge_raw(self, before: datetime) -> int:
        def purge(connection: duckdb.DuckDBPyConnection) -> int:
            cutoff = [naive(before)]
            deleted = 0
            for table in ("events", "metric_points"):
                row = connection.execute(
                    f"DELETE FROM {table} WHERE occurred_at < ?", cutoff
                ).fetchone()
                deleted += int(row[0]) if row else 0
            return deleted

        return await self._run(lambda: self._transaction(purge, _nothing))

    # -- read side: rollups ---------------------------------------------------------------------

    async def series(
        self, tenant: str, kind: str, names: Sequence[str] | None = None
    ) -> list[SeriesInfo]:
        query = "SELECT series_id, name, tags, count, last_seen FROM series WHERE tenant = ? AND kind = ?"
        params: Params = [tenant, kind]
        if names is not None:
            query += " AND name IN (SELECT unnest(?::VARCHAR[]))"
            params.append(list(names))
        rows = await self._run(lambda: self.rows(query + " ORDER BY name, tags", params))
        return [
            SeriesInfo(
                key=SeriesKey(tenant, kind, name, tuple(sorted(json.loads(tags).items()))),
                id=series_id,
                count=count,
                last_seen=aware(last_seen),
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
        bucketing = Bucketing(time_range, interval)
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
                for label, index, bins in self.rows(bins_query, bins_params + label_params):
                    ranks[(label, index)] = bins
            result: dict[tuple[str, datetime | None], BucketSummary] = {}
            for label, index, count, total, low, high, squares in self.rows(
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
        bucketing = Bucketing(time_range, interval)
        # The total spans the whole range, so hour rows serve it whatever the interval.
        whole = Bucketing(time_range, None)

        def presence(of: Bucketing) -> tuple[str, Params]:
            return of.rows("presence", "bucket_start, user_id", "tenant = ?", [tenant])

        def read() -> tuple[int, dict[datetime, int]]:
            rows, params = presence(bucketing)
            per_bucket = self.rows(
                f"SELECT {bucketing.index_sql}, count(DISTINCT user_id) FROM ({rows}) GROUP BY 1",
                params,
            )
            rows, params = presence(whole)
            (total,) = self.rows(f"SELECT count(DISTINCT user_id) FROM ({rows})", params)[0]
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
            params += [naive(query.time_range.start), naive(query.time_range.end)]
        for key, wanted in query.properties.items():
            clauses.append("json_extract(properties, ?) = ?::JSON")
            params += ['$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"', to_json(wanted)]
        return " AND ".join(clauses), params

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        where, params = self._event_where(query)
        if after is not None:
            where += " AND (occurred_at < ? OR (occurred_at = ? AND id < ?))"
            params += [naive(after.occurred_at), naive(after.occurred_at), after.id]
        statement = f"""
            SELECT {EVENT_COLUMNS}
            FROM events WHERE {where} ORDER BY occurred_at DESC, id DESC LIMIT {first + 1}
        """
        rows = await self._run(lambda: self.rows(statement, params))
        return [event_of(row) for row in rows[:first]], len(rows) > first

    async def count_events(self, query: EventQuery) -> int:
        where, params = self._event_where(query)
        rows = await self._run(
            lambda: self.rows(f"SELECT count(*) FROM events WHERE {where}", params)
        )
        return int(rows[0][0])

    async def event(self, tenant: str, event_id: str) -> Event | None:
        rows = await self._run(
            lambda: self.rows(
                f"SELECT {EVENT_COLUMNS} FROM events WHERE tenant = ? AND id = ?",
                [tenant, event_id],
            )
        )
        return event_of(rows[0]) if rows else None

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
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
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
            rows = self.rows(page, page_params)
            (count,) = self.rows(total, params)[0]
            users = [UserTaskCounts(u, int(c), int(d), a) for u, c, d, a in rows[:first]]
            return users, len(rows) > first, int(count)

        return await self._run(read)

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        where = "tenant = ? AND created_at >= ? AND created_at < ?"
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
        if user_id is not None:
            where += " AND user_id = ?"
            params.append(user_id)
        statement = f"""
            SELECT count(*), count(completed_at), avg(s), quantile_cont(s, 0.5),
                   quantile_cont(s, 0.95)
            FROM (SELECT completed_at, {self._SECONDS} AS s FROM tasks WHERE {where})
        """
        rows = await self._run(lambda: self.rows(statement, params))
        created, completed, avg, p50, p95 = rows[0]
        return TaskSummary(int(created), int(completed), avg, p50, p95)

    # -- analysis datasets ----------------------------------------------------------------------

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        where = "tenant = ? AND user_id IS NOT NULL AND occurred_at >= ? AND occurred_at < ?"
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]
        names = f"SELECT DISTINCT name FROM events WHERE {where} ORDER BY name"

        def read() -> UserActivity:
            found = [name for (name,) in self.rows(names, params)]
            # One pass, pivoted in SQL, fetched as arrays: no Python object per user or count.
            per_name = "".join(
                f", count(*) FILTER (WHERE name = ?) AS n{i}" for i in range(len(found))
            )
            statement = f"""
                SELECT user_id, count(DISTINCT CAST(occurred_at AS DATE)) AS days {per_name}
                FROM events WHERE {where} GROUP BY user_id ORDER BY user_id LIMIT {most + 1}
            """
            columns = self._reader().execute(statement, [*found, *params]).fetchnumpy()
            more = len(columns["user_id"]) > most
            return UserActivity(
                users=columns["user_id"][:most],
                active_days=columns["days"][:most],
                events={name: columns[f"n{i}"][:most] for i, name in enumerate(found)},
                more=more,
            )

        return await self._run(read)

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        statement = f"""
            SELECT task_id, user_id, status, created_at, completed_at FROM tasks
            WHERE tenant = ? AND created_at >= ? AND created_at < ?
            ORDER BY created_at, task_id LIMIT {most + 1}
        """
        params: Params = [tenant, naive(time_range.start), naive(time_range.end)]

        def read() -> TaskColumns:
            # Arrays, not rows: a million tasks never become a million Python tuples.
            columns = self._reader().execute(statement, params).fetchnumpy()
            kept = {name: np.ma.filled(values[:most]) for name, values in columns.items()}
            return TaskColumns(
                task_ids=kept["task_id"],
                user_ids=kept["user_id"],
                statuses=kept["status"],
                created_at=kept["created_at"],
                completed_at=kept["completed_at"],
                more=len(columns["task_id"]) > most,
            )

        return await self._run(read)

    # -- analysis jobs --------------------------------------------------------------------------

    async def save_job(self, job: AnalysisJob) -> None:
        row = [
            job.id,
            job.tenant,
            job.operation,
            job.state,
            naive(job.created_at),
            to_json(job.request),
            job.progress,
            job.finished_at and naive(job.finished_at),
            job.error,
            None if job.result is None else to_json(job.result),
            job.updated_at and naive(job.updated_at),
        ]

        await self._run(lambda: self._transaction(lambda c: c.execute(sql.SAVE_JOB, row), _nothing))

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None:
        statement = f"SELECT {sql.JOB_COLUMNS} FROM analysis_jobs WHERE tenant = ? AND id = ?"
        rows = await self._run(lambda: self.rows(statement, [tenant, job_id]))
        return _job_of(rows[0]) if rows else None

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        where, params = "tenant = ?", list[Any]([tenant])
        if after is not None:
            where += " AND (created_at < ? OR (created_at = ? AND id < ?))"
            params += [naive(after.created_at), naive(after.created_at), after.id]
        statement = f"""
            SELECT {sql.JOB_COLUMNS} FROM analysis_jobs WHERE {where}
            ORDER BY created_at DESC, id DESC LIMIT {first + 1}
        """
        rows = await self._run(lambda: self.rows(statement, params))
        return [_job_of(row) for row in rows[:first]], len(rows) > first

    # -- API keys -------------------------------------------------------------------------------

    async def save_key(self, key: ApiKey) -> None:
        row = [
            key.id,
            key.tenant,
            key.role,
            key.secret_hash,
            naive(key.created_at),
            key.name,
            key.revoked_at and naive(key.revoked_at),
        ]

        await self._run(lambda: self._transaction(lambda c: c.execute(sql.SAVE_KEY, row), _nothing))

    async def key(self, key_id: str) -> ApiKey | None:
        statement = f"SELECT {sql.KEY_COLUMNS} FROM api_keys WHERE id = ?"
        rows = await self._run(lambda: self.rows(statement, [key_id]))
        return _key_of(rows[0]) if rows else None

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        where, params = ("WHERE tenant = ?", [tenant]) if tenant is not None else ("", [])
        statement = f"SELECT {sql.KEY_COLUMNS} FROM api_keys {where} ORDER BY created_at, id"
        rows = await self._run(lambda: self.rows(statement, params))
        return [_key_of(row) for row in rows]

    # -- lifecycle ------------------------------------------------------------------------------

    async def ping(self) -> None:
        """Reads answer, the file's disk has ``min_free_bytes`` free, and a write commits (a
        heartbeat row; skipped while a batch is being written, which tells the same). A tiny
        write can still commit on a full disk, hence the free-space floor."""
        await self._run(lambda: self.rows("SELECT 1", []))
        if self._path != ":memory:":
            where = str(Path(self._path).parent)
            free = await asyncio.to_thread(self._free_bytes, where)
            if free < self._min_free_bytes:
                raise StoreUnavailable(
                    f"store: {free} bytes free on the disk of {self._path}; writes need"
                    f" {self._min_free_bytes}"
                )
        await self._run(self._heartbeat)

    def _heartbeat(self) -> None:
        if not self._write_lock.locked():
            self._transaction(lambda c: c.execute(sql.HEARTBEAT, [_utc_now()]), _nothing)

    async def close(self) -> None:
        if not self._closed:
            self._closed = True
            preparers = [self._preparers.get() for _ in self._all_preparers]
            with self._write_lock:
                for reader in self._readers:
                    reader.close()
                for cursor in preparers:
                    cursor.close()
                self._connection.close()


def _roll_back(connection: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is still open; a commit that failed has already ended the transaction,
    and the rollback's own error ("no transaction is active") must not hide the first one."""
    try:
        connection.rollback()
    except duckdb.Error as error:
        log.debug("store: rollback: %s", error)


def _nothing(result: object) -> tuple[()]:
    return ()


def _utc_now() -> datetime:
    return naive(datetime.now(UTC))


def _key_of(row: tuple[Any, ...]) -> ApiKey:
    id, tenant, role, secret_hash, created_at, name, revoked_at = row
    return ApiKey(
        id, tenant, role, secret_hash, created_at.replace(tzinfo=UTC), name, aware(revoked_at)
    )


def _job_of(row: tuple[Any, ...]) -> AnalysisJob:
    (
        id,
        tenant,
        operation,
        state,
        created_at,
        request,
        progress,
        finished_at,
        error,
        result,
        updated_at,
    ) = row
    return AnalysisJob(
        id=id,
        tenant=tenant,
        operation=operation,
        state=state,
        created_at=created_at.replace(tzinfo=UTC),
        request=json.loads(request),
        progress=progress,
        finished_at=aware(finished_at),
        error=error,
        result=None if result is None else json.loads(result),
        updated_at=aware(updated_at),
    )
