"""``MongoStore``'s declared dimensions: one document per key, read in each batch's transaction,
so a batch splits its rollups by the declarations as they are when it commits."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from pymongo import DeleteOne, UpdateOne

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.dimensions import (
    DEFAULT_MAX_VALUES,
    Capped,
    Declared,
    Dimensions,
    since,
)


async def declared(db: Any, tenant: str | None = None, session: Any = None) -> Dimensions:
    wanted: Filter = {} if tenant is None else {"tenant": tenant}
    found = await db["dimensions"].find(wanted, session=session).to_list()
    return Dimensions(
        tuple(
            Declared(
                d["tenant"],
                d["kind"],
                d["key"],
                docs.utc(d["declared_at"]),
                docs.utc(d["since"]),
                d["max_values"],
                d["overflowed"],
            )
            for d in found
        )
    )


async def capped(db: Any, session: Any, tenants: Iterable[str]) -> Capped:
    """The declarations of ``tenants`` (a batch's), each key with the values its series hold
    already."""
    dimensions = (await declared(db, session=session)).of_tenants(tenants)
    if not dimensions.declared:
        return Capped(dimensions, ())
    wanted = sorted({d.tenant for d in dimensions.declared})
    found = db["series"].find(
        {"tenant": {"$in": wanted}}, {"tenant": 1, "kind": 1, "tags": 1}, session=session
    )
    return Capped(dimensions, ((d["tenant"], d["kind"], d["tags"]) for d in await found.to_list()))


async def mark_overflowed(db: Any, keys: set[tuple[str, str, str]], session: Any) -> None:
    writes = [UpdateOne({"_id": _id(*key)}, {"$set": {"overflowed": True}}) for key in keys]
    if writes:
        await db["dimensions"].bulk_write(writes, ordered=False, session=session)


class DimensionStore(Database):
    """``DimensionRepository``."""

    async def declare_dimensions(
        self,
        tenant: str,
        kind: str,
        keys: Sequence[str],
        at: datetime,
        max_values: int = DEFAULT_MAX_VALUES,
    ) -> Dimensions:
        async def declare(session: Any) -> Dimensions:
            before = await declared(self._db, tenant, session)
            written = await self._db["series"].find_one(
                {"tenant": tenant, "kind": kind}, session=session
            )
            held_from = since(at, records_before=written is not None)
            writes: list[Any] = [
                DeleteOne({"_id": _id(tenant, kind, d.key)})
                for d in before.declared
                if d.kind == kind and d.key not in keys
            ]
            writes += [
                UpdateOne(
                    {"_id": _id(tenant, kind, key)},
                    {
                        "$setOnInsert": {
                            "tenant": tenant,
                            "kind": kind,
                            "key": key,
                            "declared_at": at,
                            "since": held_from,
                            "overflowed": False,
                        },
                        "$set": {"max_values": max_values},
                    },
                    upsert=True,
                )
                for key in keys
            ]
            if writes:
                await self._db["dimensions"].bulk_write(writes, ordered=True, session=session)
            return await declared(self._db, tenant, session)

        return await self._transaction(declare)

    async def dimensions(self, tenant: str | None = None) -> Dimensions:
        return await self._run(lambda: declared(self._db, tenant))


def _id(tenant: str, kind: str, key: str) -> str:
    return "\x1f".join((tenant, kind, key))
