"""``DuckDBStore``'s health and end: ``ping`` (reads, free space, a write), ``close``."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import naive
from gql_analytics.errors import StoreUnavailable


class Lifecycle(Database):
    """``Lifecycle`` (but ``system``, which the store names)."""

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
            self._transaction(lambda c: c.execute(sql.HEARTBEAT, [_utc_now()]))

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


def _utc_now() -> datetime:
    return naive(datetime.now(UTC))
