"""``MongoStore``'s reads of rollups: series, their versions, bucket statistics grouped on the
server, distinct users."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.calendar_expression import bucket_expression
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.rollup import SeriesKey
from gql_analytics.domain.stats import BucketStats, BucketSummary
from gql_analytics.domain.timerange import Segment, TimeRange, segments
from gql_analytics.ports import Dependency, SeriesInfo, Version, version_of


class RollupReads(Database):
    """``RollupReader``."""

    async def versions(self, dependencies: Sequence[Dependency]) -> list[Version]:
        """Read from the series documents, which every process writing the database updates in
        the same transaction as the records (``version_of``)."""
        return [version_of(await self.series(d.tenant, d.kind, d.names)) for d in dependencies]

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
        calendar: Calendar | None,
        *,
        quantiles: Sequence[float] = (),
    ) -> dict[tuple[str, datetime | None], BucketSummary]:
        if not groups:
            return {}
        pieces = segments(time_range) if calendar is None else calendar.segments(time_range)
        match = _in_pieces(pieces, {"series": {"$in": list(groups)}})
        index = {"$literal": 0} if calendar is None else bucket_expression(calendar, time_range)
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
                for key in _keys(groups[row["_id"]["s"]], row["_id"]["i"], calendar):
                    merged[key] = merged[key].merge(_stats_of(row))
            bins: dict[tuple[str, datetime | None], dict[int, int]] = defaultdict(dict)
            if quantiles:
                for row in await self._all("rollups", bins_pipeline):
                    bin_id = int(row["_id"]["k"])
                    for key in _keys(groups[row["_id"]["s"]], row["_id"]["i"], calendar):
                        bins[key][bin_id] = bins[key].get(bin_id, 0) + int(row["n"])
            return {
                key: replace(stats, bins=bins.get(key, {})).summary(quantiles)
                for key, stats in merged.items()
            }

        return await self._run(read)

    async def active_users(
        self, tenant: str, time_range: TimeRange, calendar: Calendar
    ) -> tuple[int, dict[datetime, int]]:
        bucket = bucket_expression(calendar, time_range)
        per_bucket: list[Filter] = [
            {"$match": _in_pieces(calendar.segments(time_range), {"tenant": tenant})},
            {"$group": {"_id": {"i": bucket, "u": "$user_id"}}},
            {"$group": {"_id": "$_id.i", "n": {"$sum": 1}}},
        ]
        # The total spans the whole range, so hour rows serve it whatever the interval.
        total: list[Filter] = [
            {"$match": _in_pieces(segments(time_range), {"tenant": tenant})},
            {"$group": {"_id": "$user_id"}},
            {"$count": "n"},
        ]

        async def read() -> tuple[int, dict[datetime, int]]:
            buckets = {
                docs.utc(row["_id"]): int(row["n"])
                for row in await self._all("presence", per_bucket)
            }
            counted = await self._all("presence", total)
            return (int(counted[0]["n"]) if counted else 0), buckets

        return await self._run(read)


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


def _keys(
    label: str, bucket: datetime, calendar: Calendar | None
) -> list[tuple[str, datetime | None]]:
    """A group's keys in ``rollup_stats``: its output bucket (with a calendar) and the total."""
    if calendar is None:
        return [(label, None)]
    return [(label, docs.utc(bucket)), (label, None)]


def _stats_of(row: Mapping[str, Any]) -> BucketStats:
    """A grouped row of bucket documents (extremes absent from event buckets)."""
    return BucketStats(
        count=int(row["count"]),
        total=float(row["total"] or 0),
        low=math.inf if row["low"] is None else float(row["low"]),
        high=-math.inf if row["high"] is None else float(row["high"]),
        sum_squares=float(row["squares"] or 0),
    )
