"""The scale-out store: MongoDB through PyMongo's async API (``AsyncMongoClient``).

Every batch is one multi-document transaction: its new raw records, its rollup deltas (bucket
documents ``$inc``-ed), its tasks and the source positions it covers commit together or not at
all, so any number of consumer processes count every record once, even across crashes. That
needs a replica set (or a sharded cluster); a standalone server is refused at start with a
message saying how to make it a one-node replica set. Range queries group their buckets on the
server; collections and indexes are in ``docs/mongodb.md``.
"""

from __future__ import annotations

import contextlib
import logging
import math
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, TypeVar

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, ReplaceOne
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError
from pymongo.uri_parser import parse_uri

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.domain.jobs import ENDED, AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.domain.records import ApplyResult, Batch, Event, Record, SourcePosition
from gql_analytics.domain.rollup import SeriesKey, rollup
from gql_analytics.domain.stats import BucketStats, BucketSummary
from gql_analytics.domain.timerange import (
    EPOCH,
    WEEK_ORIGIN,
    Interval,
    Segment,
    TimeRange,
    segments,
)
from gql_analytics.errors import StoreUnavailable
from gql_analytics.ports import (
    Dependency,
    EventCursor,
    EventQuery,
    JobCursor,
    SeriesInfo,
    TaskColumns,
    TaskSummary,
    UserActivity,
    UserTaskCounts,
    Version,
    version_of,
)

log = logging.getLogger(__name__)
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

DUPLICATE_KEY = 11000
STANDALONE = (
    "store: the MongoDB server of database {database!r} is a standalone server, and each batch "
    "is a transaction, which needs a replica set: start mongod with --replSet rs0 and run "
    "rs.initiate() once (a one-node replica set will do), or use a sharded cluster or Atlas"
)


def open_mongodb(url: str, *, retention: timedelta | None = None) -> MongoStore:
    database = parse_uri(url).get("database") or DEFAULT_DATABASE
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5_000
    )
    return MongoStore(client, database, retention=retention)


class MongoStore:
    system = "mongodb"

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

    # -- plumbing -------------------------------------------------------------------------------

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

    # -- write side -----------------------------------------------------------------------------

    async def apply(self, batch: Batch) -> ApplyResult:
        async def write(session: Any) -> ApplyResult:
            new = await self._insert_new(batch.records, session)
            deltas = rollup(new)
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

    async def versions(self, dependencies: Sequence[Dependency]) -> list[Version]:
        """Read from the series documents, which every process writing the database updates in
        the same transaction as the records (``version_of``)."""
        return [version_of(await self.series(d.tenant, d.kind, d.names)) for d in dependencies]

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

    # -- read side: rollups ---------------------------------------------------------------------

    async def series(
        self, tenant: str, kind: str, names: Sequence[str] | None = None
    ) -> list[SeriesInfo]:
        wanted: Filter = {"tenant": tenant, "kind": kind}
        if names is not None:
            wanted["name"] = {"$in": list(names)}

        async def read() -> list[SeriesInfo]:
            found = self._db["series"].find(wanted).sort([("name", 1), ("tags_json", 1)])
            return [
                SeriesInfo(
                    key=SeriesKey(tenant, kind, d["name"], tuple(sorted(d["tags"].items()))),
                    id=d["_id"],
                    count=d["count"],
                    last_seen=docs.utc(d.get("last_seen")),
                )
                for d in await found.to_list()
            ]

        return await self._run(read)

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
        pieces = segments(time_range, interval or Interval.HOUR)
        match = _in_pieces(pieces, {"series": {"$in": list(groups)}})
        index = _index(interval)
        stats_pipeline: list[Filter] = [
            {"$match": match},
            {
                "$group": {
                    "_id": {"s": "$series", "i": index},
                    "count": {"$sum": "$count"},
                    "total": {"$sum": "$total"},
                    "low": {"$min": "$low"},
                    "high": {"$max": "$high"},
                    "squares": {"$sum": "$sum_squares"},
                }
            },
        ]
        bins_pipeline: list[Filter] = [
            {"$match": match | {"bins": {"$exists": True}}},
            {"$project": {"series": 1, "i": index, "b": {"$objectToArray": "$bins"}}},
            {"$unwind": "$b"},
            {"$group": {"_id": {"s": "$series", "i": "$i", "k": "$b.k"}, "n": {"$sum": "$b.v"}}},
        ]

        async def read() -> dict[tuple[str, datetime | None], BucketSummary]:
            merged: dict[tuple[str, datetime | None], BucketStats] = defaultdict(BucketStats)
            for row in await self._all("rollups", stats_pipeline):
                for key in _keys(groups[row["_id"]["s"]], row["_id"]["i"], interval):
                    merged[key] = merged[key].merge(_stats_of(row))
            bins: dict[tuple[str, datetime | None], dict[int, int]] = defaultdict(dict)
            if quantiles:
                for row in await self._all("rollups", bins_pipeline):
                    bin_id = int(row["_id"]["k"])
                    for key in _keys(groups[row["_id"]["s"]], row["_id"]["i"], interval):
                        bins[key][bin_id] = bins[key].get(bin_id, 0) + int(row["n"])
            return {
                key: replace(stats, bins=bins.get(key, {})).summary(quantiles)
                for key, stats in merged.items()
            }

        return await self._run(read)

    async def active_users(
        self, tenant: str, time_range: TimeRange, interval: Interval
    ) -> tuple[int, dict[datetime, int]]:
        per_bucket: list[Filter] = [
            {"$match": _in_pieces(segments(time_range, interval), {"tenant": tenant})},
            {"$group": {"_id": {"i": _index(interval), "u": "$user_id"}}},
            {"$group": {"_id": "$_id.i", "n": {"$sum": 1}}},
        ]
        # The total spans the whole range, so hour rows serve it whatever the interval.
        total: list[Filter] = [
            {"$match": _in_pieces(segments(time_range, Interval.HOUR), {"tenant": tenant})},
            {"$group": {"_id": "$user_id"}},
            {"$count": "n"},
        ]

        async def read() -> tuple[int, dict[datetime, int]]:
            buckets = {
                _bucket(row["_id"], interval): int(row["n"])
                for row in await self._all("presence", per_bucket)
            }
            counted = await self._all("presence", total)
            return (int(counted[0]["n"]) if counted else 0), buckets

        return await self._run(read)

    # -- read side: raw events ------------------------------------------------------------------

    @staticmethod
    def _event_filter(query: EventQuery) -> Filter:
        wanted: Filter = {"tenant": query.tenant}
        if query.names is not None:
            wanted["name"] = {"$in": list(query.names)}
        if query.user_id is not None:
            wanted["user_id"] = query.user_id
        if query.time_range is not None:
            wanted["occurred_at"] = {"$gte": query.time_range.start, "$lt": query.time_range.end}
        matches = []
        for key, value in query.properties.items():
            if "." in key or key.startswith("$"):
                field = {"$getField": {"field": {"$literal": key}, "input": "$properties"}}
                matches.append({"$expr": {"$eq": [field, {"$literal": value}]}})
            else:
                wanted[f"properties.{key}"] = value
        if matches:
            wanted["$and"] = matches
        return wanted

    async def events(
        self, query: EventQuery, first: int, after: EventCursor | None
    ) -> tuple[list[Event], bool]:
        cursor = None if after is None else (after.occurred_at, after.id)
        return await self._run(
            lambda: self._newest_first(
                "events", self._event_filter(query), "occurred_at", cursor, first, docs.event_of
            )
        )

    async def count_events(self, query: EventQuery) -> int:
        wanted = self._event_filter(query)

        async def count() -> int:
            counted: int = await self._db["events"].count_documents(wanted)
            return counted

        return await self._run(count)

    async def event(self, tenant: str, event_id: str) -> Event | None:
        async def read() -> Event | None:
            found = await self._db["events"].find_one({"_id": docs.record_id(tenant, event_id)})
            return None if found is None else docs.event_of(found)

        return await self._run(read)

    # -- read side: tasks -----------------------------------------------------------------------

    async def tasks_per_user(
        self, tenant: str, time_range: TimeRange, first: int, after_user: str | None
    ) -> tuple[list[UserTaskCounts], bool, int]:
        match = {
            "tenant": tenant,
            "user_id": {"$ne": None},
            "created_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        page: list[Filter] = [
            {"$match": match},
            {
                "$group": {
                    "_id": "$user_id",
                    "created": {"$sum": 1},
                    "completed": {"$sum": {"$cond": [_OPEN, 0, 1]}},
                    "seconds": {"$avg": _SECONDS},
                }
            },
        ]
        if after_user is not None:
            page.append({"$match": {"_id": {"$gt": after_user}}})
        page += [{"$sort": {"_id": 1}}, {"$limit": first + 1}]
        users: list[Filter] = [{"$match": match}, {"$group": {"_id": "$user_id"}}, {"$count": "n"}]

        async def read() -> tuple[list[UserTaskCounts], bool, int]:
            rows = await self._all("tasks", page)
            counted = await self._all("tasks", users)
            result = [
                UserTaskCounts(r["_id"], int(r["created"]), int(r["completed"]), r["seconds"])
                for r in rows[:first]
            ]
            return result, len(rows) > first, int(counted[0]["n"]) if counted else 0

        return await self._run(read)

    async def task_summary(
        self, tenant: str, time_range: TimeRange, user_id: str | None
    ) -> TaskSummary:
        match: Filter = {
            "tenant": tenant,
            "created_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        if user_id is not None:
            match["user_id"] = user_id
        pipeline: list[Filter] = [
            {"$match": match},
            {
                "$group": {
                    "_id": None,
                    "created": {"$sum": 1},
                    "seconds": {"$push": _SECONDS},
                }
            },
        ]

        async def read() -> TaskSummary:
            rows = await self._all("tasks", pipeline)
            if not rows:
                return TaskSummary(0, 0, None, None, None)
            seconds = sorted(float(s) for s in rows[0]["seconds"] if s is not None)
            average = math.fsum(seconds) / len(seconds) if seconds else None
            return TaskSummary(
                int(rows[0]["created"]),
                len(seconds),
                average,
                _quantile(seconds, 0.5),
                _quantile(seconds, 0.95),
            )

        return await self._run(read)

    # -- analysis datasets ----------------------------------------------------------------------

    async def user_activity(self, tenant: str, time_range: TimeRange, most: int) -> UserActivity:
        match: Filter = {
            "tenant": tenant,
            "user_id": {"$ne": None},
            "occurred_at": {"$gte": time_range.start, "$lt": time_range.end},
        }
        day = {"$dateToString": {"format": "%Y-%m-%d", "date": "$occurred_at"}}
        users: list[Filter] = [
            {"$match": match},
            {"$group": {"_id": {"user": "$user_id", "day": day}}},
            {"$group": {"_id": "$_id.user", "days": {"$sum": 1}}},
            {"$sort": {"_id": 1}},
            {"$limit": most + 1},
        ]

        async def read() -> UserActivity:
            found = await self._all("events", users)
            chosen, more = found[:most], len(found) > most
            if not chosen:
                return UserActivity([], [], {}, more)
            last = chosen[-1]["_id"]
            counts: list[Filter] = [
                {"$match": {**match, "user_id": {"$ne": None, "$lte": last}}},
                {"$group": {"_id": {"user": "$user_id", "name": "$name"}, "n": {"$sum": 1}}},
            ]
            position = {row["_id"]: i for i, row in enumerate(chosen)}
            events: dict[str, list[int]] = {}
            for row in await self._all("events", counts):
                column = events.setdefault(row["_id"]["name"], [0] * len(chosen))
                column[position[row["_id"]["user"]]] = int(row["n"])
            return UserActivity(
                users=[row["_id"] for row in chosen],
                active_days=[int(row["days"]) for row in chosen],
                events=dict(sorted(events.items())),
                more=more,
            )

        return await self._run(read)

    async def tasks(self, tenant: str, time_range: TimeRange, most: int) -> TaskColumns:
        wanted = {"tenant": tenant, "created_at": {"$gte": time_range.start, "$lt": time_range.end}}

        pipeline: list[Filter] = [
            {"$match": wanted},
            {"$sort": {"created_at": 1, "task_id": 1}},
            {"$limit": most + 1},
        ]

        async def read() -> TaskColumns:
            found = [docs.task_delta_of(doc) for doc in await self._all("tasks", pipeline)]
            kept = found[:most]
            return TaskColumns(
                task_ids=[t.task_id for t in kept],
                user_ids=[t.user_id for t in kept],
                statuses=[t.status for t in kept],
                created_at=[t.created_at for t in kept],
                completed_at=[t.completed_at for t in kept],
                more=len(found) > most,
            )

        return await self._run(read)

    # -- analysis jobs --------------------------------------------------------------------------

    async def save_job(self, job: AnalysisJob) -> None:
        document = docs.job_document(job)

        unfinished = {"_id": document["_id"], "state": {"$nin": sorted(ENDED)}}

        async def save() -> None:
            try:
                await self._db["analysis_jobs"].bulk_write(
                    [ReplaceOne(unfinished, document, upsert=True)]
                )
            except BulkWriteError as error:
                # The job has ended (the upsert found no unfinished one, and its id is taken):
                # an ended job is final.
                if any(e.get("code") != DUPLICATE_KEY for e in error.details["writeErrors"]):
                    raise

        await self._run(save)

    async def job(self, tenant: str, job_id: str) -> AnalysisJob | None:
        async def read() -> AnalysisJob | None:
            found = await self._db["analysis_jobs"].find_one(
                {"_id": docs.record_id(tenant, job_id)}
            )
            return None if found is None else docs.job_of(found)

        return await self._run(read)

    async def jobs(
        self, tenant: str, first: int, after: JobCursor | None
    ) -> tuple[list[AnalysisJob], bool]:
        cursor = None if after is None else (after.created_at, after.id)
        return await self._run(
            lambda: self._newest_first(
                "analysis_jobs", {"tenant": tenant}, "created_at", cursor, first, docs.job_of
            )
        )

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

    # -- API keys -------------------------------------------------------------------------------

    async def save_key(self, key: ApiKey) -> None:
        document = docs.key_document(key)

        async def save() -> None:
            await self._db["api_keys"].bulk_write(
                [ReplaceOne({"_id": key.id}, document, upsert=True)]
            )

        await self._run(save)

    async def key(self, key_id: str) -> ApiKey | None:
        async def read() -> ApiKey | None:
            found = await self._db["api_keys"].find_one({"_id": key_id})
            return None if found is None else docs.key_of(found)

        return await self._run(read)

    async def keys(self, tenant: str | None = None) -> list[ApiKey]:
        wanted: Filter = {} if tenant is None else {"tenant": tenant}
        pipeline: list[Filter] = [{"$match": wanted}, {"$sort": {"created_at": 1, "_id": 1}}]

        async def read() -> list[ApiKey]:
            return [docs.key_of(d) for d in await self._all("api_keys", pipeline)]

        return await self._run(read)

    # -- lifecycle ------------------------------------------------------------------------------

    async def ping(self) -> None:
        async with self._guard():
            await self._client.admin.command("ping")

    async def close(self) -> None:
        await self._client.close()


# Whether a task is open, and its completion time in seconds (null while open), as expressions.
_OPEN = {"$eq": [{"$ifNull": ["$completed_at", None]}, None]}
_SECONDS = {
    "$cond": [
        _OPEN,
        None,
        {"$max": [{"$divide": [{"$subtract": ["$completed_at", "$created_at"]}, 1000]}, 0]},
    ]
}


def _in_pieces(pieces: Iterable[Segment], where: Filter) -> Filter:
    """Documents of the range: each segment from its level's buckets."""
    return {
        "$or": [
            where
            | {
                "level": docs.minutes(piece.level),
                "bucket_start": {"$gte": piece.start, "$lt": piece.end},
            }
            for piece in pieces
        ]
    }


def _origin(interval: Interval | None) -> datetime:
    return WEEK_ORIGIN if interval is Interval.WEEK else EPOCH


def _index(interval: Interval | None) -> Any:
    """The output bucket of a document, as an expression: its index from the origin."""
    if interval is None:
        return {"$literal": 0}
    width_ms = int(interval.value.total_seconds() * 1000)
    since = {"$subtract": ["$bucket_start", _origin(interval)]}
    return {"$floor": {"$divide": [since, width_ms]}}


def _bucket(index: float, interval: Interval) -> datetime:
    return _origin(interval) + int(index) * interval.value


def _keys(label: str, index: float, interval: Interval | None) -> list[tuple[str, datetime | None]]:
    """A group's keys in ``rollup_stats``: its output bucket (with an interval) and the total."""
    if interval is None:
        return [(label, None)]
    return [(label, _bucket(index, interval)), (label, None)]


def _stats_of(row: Mapping[str, Any]) -> BucketStats:
    """A grouped row of bucket documents (extremes absent from event buckets)."""
    return BucketStats(
        count=int(row["count"]),
        total=float(row["total"] or 0),
        low=math.inf if row["low"] is None else float(row["low"]),
        high=-math.inf if row["high"] is None else float(row["high"]),
        sum_squares=float(row["squares"] or 0),
    )


def _quantile(ordered: Sequence[float], q: float) -> float | None:
    """Linear interpolation between the closest ranks (SQL's ``quantile_cont``)."""
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    return ordered[below] + (ordered[above] - ordered[below]) * (position - below)
