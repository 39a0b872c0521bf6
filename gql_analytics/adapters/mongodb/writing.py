"""``MongoStore``'s writes: batches of records with their positions in one transaction, positions
rewound, raw records purged."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database
from gql_analytics.adapters.mongodb.dimensions import capped, mark_overflowed
from gql_analytics.domain.records import ApplyResult, Batch, Event, Record, SourcePosition
from gql_analytics.domain.rollup import rollup


class Writing(Database):
    """``RecordWriter``, ``PositionKeeper`` and ``Retention``."""

    async def apply(self, batch: Batch) -> ApplyResult:
        async def write(session: Any) -> ApplyResult:
            new = await self._insert_new(batch.records, session)
            capping = await capped(self._db, session, {r.tenant for r in new})
            deltas = rollup(new, capping.project)
            await mark_overflowed(self._db, capping.overflowed, session)
            writes: dict[str, list[Any]] = {
                "series": docs.series_writes(deltas),
                "rollups": docs.rollup_writes(deltas),
                "presence": docs.presence_writes(deltas),
                "source_positions": docs.position_writes(batch.positions),
            }
            if deltas.tasks:
                ids = [docs.task_id(*key) for key in deltas.tasks]
                found = self._db["tasks"].find({"_id": {"$in": ids}}, session=session)
                stored = {
                    (d["tenant"], d["task_id"]): docs.task_delta_of(d)
                    for d in await found.to_list()
                }
                merged = [
                    stored[key].merge(delta) if key in stored else delta
                    for key, delta in deltas.tasks.items()
                ]
                writes["tasks"] = docs.task_writes(merged)
            for collection, operations in writes.items():
                if operations:
                    await self._db[collection].bulk_write(
                        operations, ordered=False, session=session
                    )
            return ApplyResult(applied=tuple(new), duplicates=len(batch.records) - len(new))

        return await self._transaction(write)

    async def _insert_new(self, records: Sequence[Record], session: Any) -> list[Record]:
        """The records whose id is neither stored nor earlier in the batch, inserted."""
        firsts: dict[tuple[bool, str], Record] = {}
        for record in records:
            firsts.setdefault(
                (isinstance(record, Event), docs.record_id(record.tenant, record.id)), record
            )
        new: set[tuple[bool, str]] = set()
        for is_event, collection in ((True, "events"), (False, "metric_points")):
            ids = [key for flag, key in firsts if flag is is_event]
            if not ids:
                continue
            found = self._db[collection].find({"_id": {"$in": ids}}, {"_id": 1}, session=session)
            stored = {d["_id"] for d in await found.to_list()}
            fresh = [key for key in ids if key not in stored]
            if fresh:
                await self._db[collection].bulk_write(
                    docs.inserts(docs.record_document(firsts[(is_event, k)]) for k in fresh),
                    ordered=True,
                    session=session,
                )
            new.update((is_event, key) for key in fresh)
        return [r for key, r in firsts.items() if key in new]

    async def positions(self, source: str) -> dict[int, int]:
        async def read() -> dict[int, int]:
            found = await self._db["source_positions"].find({"source": source}).to_list()
            return {d["partition"]: d["next_offset"] for d in found}

        return await self._run(read)

    async def rewind(self, source: str, partition: int, next_offset: int) -> None:
        async def write() -> None:
            rewrite = docs.position_rewrite(SourcePosition(source, partition, next_offset))
            await self._db["source_positions"].bulk_write([rewrite])

        await self._run(write)

    async def purge_raw(self, before: datetime) -> int:
        async def purge() -> int:
            deleted = 0
            for collection in ("events", "metric_points"):
                result = await self._db[collection].delete_many({"occurred_at": {"$lt": before}})
                deleted += result.deleted_count
            return deleted

        return await self._run(purge)
