"""A stand-in for MongoDB in tests where no server runs: mongomock-ng (an in-process fake of
PyMongo's synchronous API) behind the few async methods ``MongoStore`` calls on PyMongo's
``AsyncMongoClient``. It answers ``hello`` as a replica set; its transactions run one at a time
(the isolation a real transaction gives), and one that fails is rolled back: the documents its
bulk writes touched (by ``_id``, as every write of a batch names them) are put back as they
were. ``go_down()`` (and ``come_back()``) makes it fail as an unreachable server does. With
``MONGODB_URL`` set, the tests run against that real server instead.
"""

from __future__ import annotations

import asyncio
import copy
import os
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Self, TypeVar

import mongomock_ng
from pymongo import AsyncMongoClient, DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import ServerSelectionTimeoutError

from gql_analytics.adapters.mongodb.store import MongoStore
from gql_analytics.ports import Store

T = TypeVar("T")
NAME = "stand-in (mongomock-ng)"
REAL = os.environ.get("MONGODB_URL")


class _Link:
    """Whether the stand-in server answers (when it does not, every call fails as the driver's
    do when no server can be selected), and what was asked of it: ``calls`` per (collection,
    method), each a round trip to a real server, and ``written`` documents per collection."""

    def __init__(self) -> None:
        self.up = True
        self.calls: Counter[tuple[str, str]] = Counter()
        self.written: Counter[str] = Counter()

    def check(self, collection: str | None = "admin", method: str = "command") -> None:
        """A call reaching the server (counted, unless it continues a counted one)."""
        if not self.up:
            raise ServerSelectionTimeoutError("stand-in: no server answers (connection refused)")
        if collection is not None:
            self.calls[(collection, method)] += 1


class StandInClient:
    def __init__(self) -> None:
        self._client: Any = mongomock_ng.MongoClient(tz_aware=True)
        self._transactions = asyncio.Lock()
        self._link = _Link()
        self.admin = _Admin(self._link)
        self.closed = False

    async def go_down(self) -> None:
        """Unreachable from now on (between transactions)."""
        async with self._transactions:
            self._link.up = False

    async def come_back(self) -> None:
        async with self._transactions:
            self._link.up = True

    @property
    def calls(self) -> Counter[tuple[str, str]]:
        return self._link.calls

    @property
    def written(self) -> Counter[str]:
        return self._link.written

    def __getitem__(self, name: str) -> _Database:
        return _Database(self._client[name], self._link)

    def start_session(self) -> _Session:
        return _Session(self._transactions)

    async def close(self) -> None:
        self.closed = True


class _Admin:
    def __init__(self, link: _Link) -> None:
        self._link = link

    async def command(self, name: str) -> dict[str, Any]:
        self._link.check()
        if name == "hello":
            return {"ok": 1, "isWritablePrimary": True, "setName": "stand-in"}
        return {"ok": 1}


class _Session:
    def __init__(self, lock: asyncio.Lock) -> None:
        self._lock = lock
        # In a transaction: each document its writes touched as it was before (None: absent).
        self._before: dict[tuple[int, Any], tuple[Any, Any]] | None = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        return None

    async def with_transaction(self, callback: Callable[[Self], Awaitable[T]]) -> T:
        async with self._lock:
            self._before = {}
            try:
                return await callback(self)
            except BaseException:
                self._roll_back()
                raise
            finally:
                self._before = None

    def remember(self, collection: Any, operations: Iterable[Any]) -> None:
        """Keep what the documents ``operations`` are about to write were, once per
        transaction."""
        if self._before is None:
            return
        stored = collection._store
        for operation in operations:
            document_id = _target(operation)
            key = (id(collection), document_id)
            if key not in self._before:
                was = copy.deepcopy(stored[document_id]) if document_id in stored else None
                self._before[key] = (collection, was)

    def _roll_back(self) -> None:
        assert self._before is not None
        for (_, document_id), (collection, was) in self._before.items():
            stored = collection._store
            if was is not None:
                stored[document_id] = was
            elif document_id in stored:
                del stored[document_id]


def _target(operation: Any) -> Any:
    """The ``_id`` of the one document a bulk write operation writes."""
    if isinstance(operation, InsertOne):
        return operation._doc["_id"]
    if isinstance(operation, UpdateOne | ReplaceOne | DeleteOne) and "_id" in operation._filter:
        return operation._filter["_id"]
    raise NotImplementedError(f"the stand-in rolls back writes of one document by _id: {operation}")


class _Database:
    def __init__(self, database: Any, link: _Link) -> None:
        self._database = database
        self._link = link

    def __getitem__(self, name: str) -> _Collection:
        return _Collection(self._database[name], self._link)


class _Collection:
    def __init__(self, collection: Any, link: _Link) -> None:
        self._collection = collection
        self._link = link

    def _check(self, method: str) -> None:
        self._link.check(self._collection.name, method)

    def find(
        self, filter: dict[str, Any], projection: Any = None, *, session: object = None
    ) -> _Cursor:
        ids = filter.get("_id", {}).get("$in") if list(filter) == ["_id"] else None
        if isinstance(ids, list):
            # mongomock scans every document for every id of an $in (even for one id): look
            # each up in its store, keyed by _id, as a server's _id index would.
            stored = self._collection._store
            found = [copy.deepcopy(stored[i]) for i in ids if i in stored]
            if projection is not None:
                found = [{k: d[k] for k in ("_id", *projection) if k in d} for d in found]
            return _Cursor(found, self._link, self._collection.name)
        return _Cursor(self._collection.find(filter, projection), self._link, self._collection.name)

    async def find_one(self, filter: dict[str, Any], *, session: object = None) -> Any:
        self._check("find_one")
        return self._collection.find_one(filter)

    async def aggregate(self, pipeline: list[Any], *, session: object = None) -> _Cursor:
        self._check("aggregate")
        return _Cursor(self._collection.aggregate(pipeline), self._link, None)

    async def bulk_write(
        self, operations: list[Any], *, ordered: bool = True, session: object = None
    ) -> Any:
        self._check("bulk_write")
        self._link.written[self._collection.name] += len(operations)
        if isinstance(session, _Session):
            session.remember(self._collection, operations)
        return self._collection.bulk_write(operations, ordered=ordered)

    async def count_documents(self, filter: dict[str, Any], *, session: object = None) -> int:
        self._check("count_documents")
        counted: int = self._collection.count_documents(filter)
        return counted

    async def delete_many(self, filter: dict[str, Any], *, session: object = None) -> Any:
        self._check("delete_many")
        return self._collection.delete_many(filter)

    async def index_information(self) -> dict[str, Any]:
        self._check("index_information")
        information: dict[str, Any] = self._collection.index_information()
        return information

    async def create_index(self, keys: Any, **options: Any) -> str:
        self._check("create_index")
        created: str = self._collection.create_index(keys, **options)
        return created


class _Cursor:
    def __init__(self, cursor: Iterable[Any], link: _Link, found_in: str | None) -> None:
        self._cursor: Any = cursor
        self._link = link
        self._found_in = found_in  # a find's collection: its round trip is the first read

    def sort(self, keys: Any) -> _Cursor:
        self._cursor = self._cursor.sort(keys)
        return self

    def limit(self, count: int) -> _Cursor:
        self._cursor = self._cursor.limit(count)
        return self

    async def to_list(self, length: int | None = None) -> list[Any]:
        self._link.check(self._found_in, "find")  # an aggregate's round trip was counted
        return list(self._cursor)


async def mongodb_store() -> AsyncIterator[Store]:
    """A MongoDB store on a database of its own at ``MONGODB_URL``, else on the stand-in."""
    if REAL is None:
        store = MongoStore(StandInClient(), "analytics")
        yield store
        await store.close()
        return
    database = f"gql_analytics_test_{uuid.uuid4().hex[:12]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(REAL, tz_aware=True)
    store = MongoStore(client, database)
    yield store
    await client.drop_database(database)
    await store.close()
