"""What ``AnalyticsService`` answers by asking questions (``docs/planner.md``): any aggregate
(read from rollups or raw records, as the planner chooses), a metric's statistics, funnels and
retention; and the limits on the raw records a question may scan."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gql_analytics.domain.calendar import UTC_ZONE, Calendar
from gql_analytics.domain.query.conditions import AllOf, Compare
from gql_analytics.domain.query.conditions import Op as CompareOp
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.funnel import Funnel, FunnelQuestion
from gql_analytics.domain.query.question import MAX_LIMIT, Order, Question
from gql_analytics.domain.query.retention import RetentionQuestion, RetentionTable
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import CostLimitExceeded, InvalidRange
from gql_analytics.ports import SeriesInfo, Store
from gql_analytics.services import planner
from gql_analytics.services.answers import STATS_MEASURES, Breakdown, MetricResult, Stats
from gql_analytics.services.breakdown import breakdown


class Questions:
    """The questions of ``AnalyticsService`` (which gives it its store, clock and limits)."""

    _store: Store
    retention: timedelta | None
    max_scan_rows: int | None
    clock: Callable[[], datetime]

    async def _depend(self, tenant: str, kind: str, names: Sequence[str] | None = None) -> None:
        raise NotImplementedError

    def _within_points(self, series: int, buckets: int) -> None:
        raise NotImplementedError

    # -- questions ------------------------------------------------------------------------------

    async def aggregate(self, question: Question) -> Breakdown:
        """Measures of the records a question selects, by its dimensions and buckets, over the
        range widened to whole minutes (the resolution every plan shares)."""
        question = replace(question, time_range=question.time_range.to_minutes()).check()
        calendar = question.calendar
        buckets = [] if calendar is None else calendar.buckets(question.time_range)
        if calendar is not None:
            self._within_points(question.limit + question.other, len(buckets))
        await self._depend(question.tenant, question.kind, question.names)
        series, dimensions = await asyncio.gather(
            self._store.series(question.tenant, question.kind, question.names),
            self._store.dimensions(question.tenant),
        )
        raw_from = None if self.retention is None else self.clock() - self.retention
        plan = planner.choose(question, series, dimensions, raw_from)
        if plan.source == planner.ROLLUPS:
            cells = await planner.from_rollups(self._store, question, series)
        else:
            self._within_retention(question.time_range)
            await self._within_scan(series, question.time_range, plan.raw_rows)
            cells = await self._store.answer(question)
        return breakdown(question, cells, buckets, plan.report())

    async def _within_scan(
        self, series: Sequence[SeriesInfo], time_range: TimeRange, most: int
    ) -> None:
        """Refuse a scan of more raw records than ``max_scan_rows``. ``most`` (every record of
        the series asked) bounds it; past the limit, the rollups count those in the range."""
        limit = self.max_scan_rows
        if limit is None or most <= limit:
            return
        ids = {s.id: "" for s in series}  # the series asked (by name, when names are given)
        counted = await self._store.rollup_stats(ids, time_range.to_minutes(), None)
        rows = sum(summary.count for summary in counted.values())
        if rows > limit:
            raise CostLimitExceeded(
                f"the question would scan {rows:,} raw records, past the limit of {limit:,}: "
                "ask a shorter range or fewer names, or declare the dimensions it groups and "
                "filters by so that the rollups answer it"
            )

    def _within_retention(self, time_range: TimeRange) -> None:
        """Refuse a scan of raw records from before the retention period: they are gone."""
        if self.retention is None:
            return
        kept_from = self.clock() - self.retention
        if time_range.start < kept_from:
            raise InvalidRange(
                f"range: this question is answered from raw records, which are kept for "
                f"{self.retention.days} days (since {kept_from:%Y-%m-%d %H:%M} UTC); ask a "
                "shorter range, or one the rollups answer (names and metric tags as dimensions)",
                field="range",
            )

    # -- journeys -------------------------------------------------------------------------------

    async def funnel(self, question: FunnelQuestion) -> Funnel:
        """The question's funnel, from raw events (``domain.query.funnel`` has the rules)."""
        question.check()
        names = [step.name for step in question.steps]
        await self._scannable(question.tenant, EVENT, names, question.time_range)
        return await self._store.funnel(question)

    async def cohort_retention(self, question: RetentionQuestion) -> RetentionTable:
        """The question's retention table, from raw events (``domain.query.retention``)."""
        question.check()
        names = [question.cohort.name, question.returning.name]
        await self._scannable(question.tenant, EVENT, names, question.time_range)
        return await self._store.cohort_retention(question)

    async def _scannable(
        self, tenant: str, kind: str, names: Sequence[str], time_range: TimeRange
    ) -> None:
        """Stamp what a scan of raw records reads, and refuse one they cannot answer: from
        before their retention, or of more than ``max_scan_rows``."""
        await self._depend(tenant, kind, names)
        self._within_retention(time_range)
        series = await self._store.series(tenant, kind, names)
        await self._within_scan(series, time_range, sum(s.count for s in series))

    async def metric(
        self,
        tenant: str,
        name: str,
        time_range: TimeRange,
        interval: Interval,
        tags: Mapping[str, Any] | None = None,
        group_by_tag: str | None = None,
        *,
        zone: ZoneInfo = UTC_ZONE,
    ) -> MetricResult:
        """A metric's statistics over the range and per bucket, of the points whose tags have
        the values ``tags`` gives; and per value of ``group_by_tag`` (points without it left
        out). Two questions, each read from rollups or raw points as the planner chooses."""
        matching = tuple(
            Compare(Field(Attribute.TAG, key), CompareOp.EQ, value)
            for key, value in (tags or {}).items()
        )
        question = Question(
            tenant=tenant,
            kind=METRIC,
            measures=STATS_MEASURES,
            time_range=time_range,
            names=(name,),
            calendar=Calendar(interval, zone),
            where=AllOf(matching) if matching else None,
            limit=1,
        )
        answer = await self.aggregate(question)
        (whole,) = answer.groups
        groups: list[tuple[str, Stats]] = []
        if group_by_tag is not None:
            tagged = Compare(Field(Attribute.TAG, group_by_tag), CompareOp.EXISTS, True)
            by_tag = await self.aggregate(
                replace(
                    question,
                    dimensions=(Field(Attribute.TAG, group_by_tag),),
                    calendar=None,
                    where=AllOf((*matching, tagged)),
                    order=Order(measure=None, dimension=0, descending=False),
                    limit=MAX_LIMIT,
                )
            )
            groups = [(str(g.key[0]), Stats.of(g.values)) for g in by_tag.groups]
        return MetricResult(
            name=name,
            overall=Stats.of(whole.values),
            points=[(b, Stats.of(values)) for b, values in whole.points],
            groups=groups,
        )
