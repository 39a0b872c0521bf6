"""``DuckDBStore``'s reads of rollups: series, their versions, bucket statistics (quantile bins
chosen in SQL), distinct users."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime

from gql_analytics.adapters.duckdb.buckets import Bucketing
from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.values import Params, aware
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.rollup import SeriesKey
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.ports import Dependency, SeriesInfo, Version


class RollupReads(Database):
    """``RollupReader``."""

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
        calendar: Calendar | None,
        *,
        quantiles: Sequence[float] = (),
    ) -> dict[tuple[str, datetime | None], BucketSummary]:
        if not groups:
            return {}
        bucketing = Bucketing(time_range, calendar)
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
            SELECT label, {bucketing.bucket_sql} AS bucket, sum(count), sum(total), min(low),
                   max(high), sum(sum_squares)
            FROM ({stats_rows}) JOIN {labels} USING (series_id)
            GROUP BY GROUPING SETS ((label, bucket), (label))
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
                SELECT label, {bucketing.bucket_sql} AS bucket, bin, sum(n) AS n
                FROM ({bins_rows}) JOIN {labels} USING (series_id)
                GROUP BY GROUPING SETS ((label, bucket, bin), (label, bin))
            ), ranked AS (
                SELECT label, bucket, bin,
                       sum(n) OVER (PARTITION BY label, bucket ORDER BY bin
                                    ROWS UNBOUNDED PRECEDING) AS running,
                       sum(n) OVER (PARTITION BY label, bucket) AS total
                FROM merged
            )
            SELECT label, bucket, [{chosen}] FROM ranked GROUP BY ALL
        """

        def read() -> dict[tuple[str, datetime | None], BucketSummary]:
            ranks: dict[tuple[str, datetime | None], list[int | None]] = {}
            if quantiles:
                for label, bucket, bins in self.rows(bins_query, bins_params + label_params):
                    ranks[(label, bucket)] = bins
            result: dict[tuple[str, datetime | None], BucketSummary] = {}
            for label, bucket, count, total, low, high, squares in self.rows(
                stats_query, stats_params + label_params
            ):
                if calendar is None and bucket is not None:
                    continue  # without an interval, the grand total is the only bucket
                chosen_bins = ranks.get((label, bucket), [None] * len(quantiles))
                result[(label, bucketing.bucket_of(bucket))] = BucketSummary(
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
        self, tenant: str, time_range: TimeRange, calendar: Calendar
    ) -> tuple[int, dict[datetime, int]]:
        bucketing = Bucketing(time_range, calendar)
        # The total spans the whole range, so hour rows serve it whatever the interval.
        whole = Bucketing(time_range, None)

        def presence(of: Bucketing) -> tuple[str, Params]:
            return of.rows("presence", "bucket_start, user_id", "tenant = ?", [tenant])

        def read() -> tuple[int, dict[datetime, int]]:
            rows, params = presence(bucketing)
            per_bucket = self.rows(
                f"SELECT {bucketing.bucket_sql}, count(DISTINCT user_id) FROM ({rows}) GROUP BY 1",
                params,
            )
            rows, params = presence(whole)
            (total,) = self.rows(f"SELECT count(DISTINCT user_id) FROM ({rows})", params)[0]
            return int(total), {start.replace(tzinfo=UTC): int(n) for start, n in per_bucket}

        return await self._run(read)
