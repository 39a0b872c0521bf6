"""The MongoDB database under ``MongoStore``: the client, the collections and their indexes
(set up on first use), driver errors as the gateway's, and the one transaction every batch is.

Every batch is one multi-document transaction: its new raw records, its rollup deltas (bucket
documents ``$inc``-ed), its tasks and the source positions it covers commit together or not at
all, so any number of consumer processes count every record once, even across crashes. That
needs a replica set (or a sharded cluster); a standalone server is refused at start with a
message saying how to make it a one-node replica set. Collections and indexes are in
``docs/mongodb.md``.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING
from pymongo.errors import ConnectionFailure, PyMongoError

from gql_analytics.errors import StoreUnavailable

T = TypeVar("T")
DEFAULT_DATABASE = "gql_analytics"
Filter = dict[str, Any]

EXPIRY = [("occurred_at", ASCENDING)]  # purges; a TTL index when a retention is set
INDEXES: dict[str, list[list[tuple[str, int]]]] = {
    "events": [
        [("tenant", ASCENDING), ("occurred_at", DESCENDING), ("id", DESCENDING)],
        [("tenant", ASCENDING), ("name", ASCENDING), ("occurred_at", DESCENDING)],
        [("tenant", ASCENDING), ("user_id", ASCENDING), ("occurred_at", DESCENDING)],
        EXPIRY,
    ],
    "metric_points": [EXPIRY],
    "series": [[("tenant", ASCENDING), ("kind", ASCENDING), ("name", ASCENDING)]],
    "rollups": [[("series", ASCENDING), ("level", ASCENDING), ("bucket_start", ASCENDING)]],
    "presence": [[("tenant", ASCENDING), ("level", ASCENDING), ("bucket_start", ASCENDING)]],
    "tasks": [
        [("tenant", ASCENDING), ("created_at", ASCENDING), ("task_id", ASCENDING)],
        [("tenant", ASCENDING), ("user_id", ASCENDING), ("created_at", ASCENDING)],
    ],
    "source_positions": [[("source", ASCENDING)]],
    "analysis_jobs": [[("tenant", ASCENDING), ("created_at", DESCENDING), ("id", DESCENDING)]],
    "api_keys": [[("tenant", ASCENDING), ("created_at", ASCENDING)]],
}

STANDALONE = (
    "store: the MongoDB server of database {database!r} is a standalone server, and each batch "
    "is a transaction, which needs a replica set: start mongod with --replSet rs0 and run "
    "rs.initiate() once (a one-node replica set will do), or use a sharded cluster or Atlas"
)


class Database:
    """The client and the transaction every part of ``MongoStore`` works through."""

    def __init__(
        self, client: Any, database: str = DEFAULT_DATABASE, *, retention: timedelta | None = None
    ) -> None:
        """``client``: an ``AsyncMongoClient`` (``tz_aware=True``), or in tests a stand-in with
        the same async methods. With ``retention``, raw records expire through a TTL index on
        ``occurred_at`` (the server deletes them; ``purge_raw`` stays for the gateway's own
        purge)."""
        self._client = client
        self._retention = retention
        self._db = client[database]
        self._database = database
        self._set_up = False

    @contextlib.asynccontextmanager
    async def _guard(self) -> AsyncIterator[None]:
        """Driver errors as the gateway's: the server unreachable is ``StoreUnavailable``
        (retriable: the consumer backs off and commits nothing meanwhile)."""
        try:
            yield
        except ConnectionFailure as error:
            raise StoreUnavailable(f"store: MongoDB unreachable ({error})") from error
        except PyMongoError as error:
            if error.has_error_label("TransientTransactionError"):
                raise StoreUnavailable(f"store: MongoDB transaction failed ({error})") from error
            raise

    async def _ready(self) -> None:
        if self._set_up:
            return
        async with self._guard():
            hello = await self._client.admin.command("hello")
            if not hello.get("setName") and hello.get("msg") != "isdbgrid":
                raise StoreUnavailable(STANDALONE.format(database=self._database))
            for collection, indexes in INDEXES.items():
                for keys in indexes:
                    options = {}
                    if keys == EXPIRY and self._retention is not None:
                        options["expireAfterSeconds"] = int(self._retention.total_seconds())
                    await self._db[collection].create_index(keys, **options)
        self._set_up = True

    async def _run(self, work: Callable[[], Awaitable[T]]) -> T:
        """``work`` (reads, or a write that needs no transaction) once the store is set up."""
        await self._ready()
        async with self._guard():
            return await work()

    async def _transaction(self, work: Callable[[Any], Awaitable[T]]) -> T:
        await self._ready()
        async with self._guard(), self._client.start_session() as session:
            result: T = await session.with_transaction(work)
            return result

    async def _all(self, collection: str, pipeline: list[Filter]) -> list[dict[str, Any]]:
        cursor = await self._db[collection].aggregate(pipeline)
        rows: list[dict[str, Any]] = await cursor.to_list()
        return rows

    async def _newest_first(
        self,
        collection: str,
        wanted: Filter,
        time: str,
        after: tuple[datetime, str] | None,
        first: int,
        convert: Callable[[Mapping[str, Any]], T],
    ) -> tuple[list[T], bool]:
        """A page of documents in (time, id) descending order after a cursor, converted; and
        whether more follow."""
        if after is not None:
            moment, id = after
            wanted = wanted | {"$or": [{time: {"$lt": moment}}, {time: moment, "id": {"$lt": id}}]}
        found = (
            self._db[collection]
            .find(wanted)
            .sort([(time, DESCENDING), ("id", DESCENDING)])
            .limit(first + 1)
        )
        rows = await found.to_list()
        return [convert(d) for d in rows[:first]], len(rows) > first
