"""The DuckDB database under ``DuckDBStore``: its connections, the worker threads its calls run
in, and the one transaction every write goes through.

DuckDB is synchronous; every call runs in a worker thread so the event loop never waits on it.
One connection writes (serialized by a lock); reads use a connection per thread, which DuckDB's
MVCC lets run beside the writer; Kafka batches are prepared on cursors of their own (two, so
that two batches can be prepared at once) into an attached in-memory scratch database, beside
the writer too.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import queue
import re
import shutil
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TypeVar

import duckdb

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.messages.stage import MACROS
from gql_analytics.adapters.duckdb.values import Params
from gql_analytics.errors import StoreUnavailable

log = logging.getLogger(__name__)
T = TypeVar("T")
PREPARERS = 2
SQL_FROM = 500
"""Kafka batches of at least so many messages are decoded in SQL; smaller ones in Python."""

Touched = Iterable[tuple[str, str, str]]
"""The (tenant, kind, name) of the series a write changed."""


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


class Database:
    """The connections, threads and transaction every part of ``DuckDBStore`` works through."""

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

    def _transaction(
        self,
        work: Callable[[duckdb.DuckDBPyConnection], T],
        touched: Callable[[T], Touched] = lambda result: (),
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

    async def _write(self, statement: str, row: Params) -> None:
        """One statement in a transaction of its own (a job, a key, a position)."""
        await self._run(lambda: self._transaction(lambda c: c.execute(statement, row)))


def _roll_back(connection: duckdb.DuckDBPyConnection) -> None:
    """Roll back what is still open; a commit that failed has already ended the transaction,
    and the rollback's own error ("no transaction is active") must not hide the first one."""
    try:
        connection.rollback()
    except duckdb.Error as error:
        log.debug("store: rollback: %s", error)
