"""``DuckDBStore``'s writes: batches of records with their positions (all or nothing), positions
rewound, raw records purged."""

from __future__ import annotations

from datetime import datetime

import duckdb

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.declared import capped, mark_overflowed
from gql_analytics.adapters.duckdb.values import naive
from gql_analytics.adapters.duckdb.writes import (
    insert_events,
    insert_points,
    write_positions,
    write_rollup,
)
from gql_analytics.domain.records import ApplyResult, Batch, Event, MetricPoint, Record
from gql_analytics.domain.rollup import EVENT, METRIC, rollup


class Writing(Database):
    """``RecordWriter``, ``PositionKeeper`` and ``Retention``."""

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
            capping = capped(connection, {r.tenant for r in applied})
            write_rollup(connection, rollup(applied, capping.project))
            mark_overflowed(connection, capping.overflowed)
            write_positions(connection, batch.positions)
            return applied

        def touched(applied: tuple[Record, ...]) -> set[tuple[str, str, str]]:
            return {(r.tenant, EVENT if isinstance(r, Event) else METRIC, r.name) for r in applied}

        applied = self._transaction(write, touched)
        return ApplyResult(applied=applied, duplicates=len(batch.records) - len(applied))

    async def positions(self, source: str) -> dict[int, int]:
        rows = await self._run(
            lambda: self.rows(
                "SELECT partition, next_offset FROM source_positions WHERE source = ?", [source]
            )
        )
        return dict(rows)

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        await self._write(sql.REWIND_POSITION, [source, partition, next_offset])

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

        return await self._run(lambda: self._transaction(purge))
