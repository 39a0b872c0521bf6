"""The analysis API's types: what a job is asked to do, and the job as clients see it."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry
from strawberry.scalars import JSON
from strawberry.utils.str_converters import to_camel_case

from gql_analytics.domain import jobs
from gql_analytics.entrypoints.graphql import cursors
from gql_analytics.entrypoints.graphql.analysis.results import AnalysisResult, typed
from gql_analytics.entrypoints.graphql.common import (
    Interval,
    TimeRange,
    resolve_range,
    string_tags,
    zone_of,
)
from gql_analytics.entrypoints.graphql.connection import Connection, page
from gql_analytics.errors import InvalidAnalysis
from gql_analytics.services.analysis.datasets import (
    Dataset,
    EventsDataset,
    MetricDataset,
    RowsDataset,
    TasksDataset,
)
from gql_analytics.services.analysis.parameters import Parameters
from gql_analytics.services.analysis.service import AnalysisRequest
from gql_analytics.services.analytics import AnalyticsService


@strawberry.enum
class AnalysisOperation(enum.Enum):
    SUMMARY = "SUMMARY"
    CORRELATION = "CORRELATION"
    CLUSTERING = "CLUSTERING"
    REGRESSION = "REGRESSION"
    ANOMALIES = "ANOMALIES"
    T_TEST = "T_TEST"
    FORECAST = "FORECAST"


@strawberry.enum
class AnalysisState(enum.Enum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    SUCCEEDED = "SUCCEEDED"
    FAILED = "FAILED"
    CANCELLED = "CANCELLED"


@strawberry.input(description="A metric's buckets over a range, one row per bucket.")
class MetricSeriesInput:
    name: str
    range: TimeRange | None = None
    interval: Interval | None = Interval.HOUR
    tags: JSON | None = None
    time_zone: str | None = strawberry.field(
        default="UTC",
        description='The IANA time zone ("Europe/Berlin") whose clock and calendar the buckets '
        "follow. Default: UTC.",
    )


@strawberry.input(
    description="Exactly one of: events (one row of features per user), metric (one row per "
    "bucket), tasks (one row per task), rows (up to 10,000 flat JSON objects)."
)
class DatasetInput:
    events: TimeRange | None = None
    metric: MetricSeriesInput | None = None
    tasks: TimeRange | None = None
    rows: JSON | None = None

    def to_domain(self, service: AnalyticsService) -> Dataset:
        given = [n for n in ("events", "metric", "tasks", "rows") if getattr(self, n) is not None]
        if len(given) != 1:
            raise InvalidAnalysis(
                "dataset: give exactly one of events, metric, tasks, rows"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.events is not None:
            return EventsDataset(self.events.resolve(service))
        if self.tasks is not None:
            return TasksDataset(self.tasks.resolve(service))
        if self.metric is not None:
            metric = self.metric
            zone = zone_of(metric.time_zone)
            return MetricDataset(
                metric.name,
                resolve_range(metric.range, service, zone),
                Interval.or_default(metric.interval, Interval.HOUR),
                string_tags(metric.tags, "dataset.metric.tags") or None,
                zone,
            )
        return RowsDataset(self.rows)


@strawberry.input
class AnalysisInput:
    operation: AnalysisOperation
    dataset: DatasetInput
    columns: list[str] | None = strawberry.field(
        default=None, description="Columns to analyse (default: every numeric column)."
    )
    target: str | None = strawberry.field(
        default=None,
        description="REGRESSION: the column explained; T_TEST: the column tested; "
        "ANOMALIES/FORECAST: the bucket statistic (default avg).",
    )
    k: int | None = strawberry.field(
        default=None, description="CLUSTERING: clusters (default: best silhouette of 2..10)."
    )
    group_column: str | None = strawberry.field(
        default=None, description="T_TEST: the column naming each row's group."
    )
    groups: list[str] | None = strawberry.field(
        default=None, description="T_TEST: the two groups compared (Welch)."
    )
    popmean: float | None = strawberry.field(
        default=None, description="T_TEST: the mean a one-sample test compares against."
    )
    method: str | None = strawberry.field(
        default=None, description="CORRELATION: pearson (default) or spearman."
    )
    horizon: int | None = strawberry.field(
        default=None, description="FORECAST: buckets ahead (default 24, at most 1000)."
    )
    seed: int | None = strawberry.field(
        default=None, description="Random seed of k-means and IsolationForest (default 0)."
    )
    threshold: float | None = strawberry.field(
        default=None,
        description="ANOMALIES: a bucket whose robust z-score passes this is anomalous (default 5).",
    )
    level: float | None = strawberry.field(
        default=None, description="FORECAST: the prediction interval's level (default 0.95)."
    )

    def to_request(self, service: AnalyticsService) -> AnalysisRequest:
        return AnalysisRequest(
            operation=self.operation.value,
            dataset=self.dataset.to_domain(service),
            parameters=Parameters(
                columns=tuple(self.columns) if self.columns else None,
                target=self.target,
                k=self.k,
                group_column=self.group_column,
                groups=tuple(self.groups) if self.groups is not None else None,
                popmean=self.popmean,
                method=self.method,
                horizon=self.horizon,
                seed=self.seed,
                threshold=self.threshold,
                level=self.level,
            ),
            echo=_plain(self),
        )


def _plain(value: Any) -> Any:
    """An input as JSON, with its GraphQL (camelCase) names and without what was not given."""
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return [_plain(item) for item in value]
    fields = getattr(value, "__strawberry_definition__", None)
    if fields is None:
        return value
    return {
        f.graphql_name or to_camel_case(f.python_name): _plain(getattr(value, f.python_name))
        for f in fields.fields
        if getattr(value, f.python_name) is not None
    }


@strawberry.type(description="An analysis and, once it SUCCEEDED, its result.")
class AnalysisJob:
    id: strawberry.ID
    state: AnalysisState
    operation: AnalysisOperation
    progress: float = strawberry.field(description="0 to 1; 1 once SUCCEEDED.")
    created_at: datetime
    finished_at: datetime | None
    error: str | None = strawberry.field(description="Why it FAILED.")
    result: JSON | None
    input: JSON = strawberry.field(description="The AnalysisInput the job was run with.")

    @strawberry.field(description="The result typed by the operation (once SUCCEEDED).")
    def typed_result(self) -> AnalysisResult | None:
        return typed(self.operation.value, self.result)

    @classmethod
    def from_domain(cls, job: jobs.AnalysisJob) -> AnalysisJob:
        return cls(
            id=strawberry.ID(job.id),
            state=AnalysisState(job.state),
            operation=AnalysisOperation(job.operation),
            progress=job.progress,
            created_at=job.created_at,
            finished_at=job.finished_at,
            error=job.error,
            result=None if job.result is None else JSON(job.result),
            input=JSON(job.request),
        )


@strawberry.type
class AnalysisJobConnection(Connection[AnalysisJob]):
    @classmethod
    def from_domain(cls, found: list[jobs.AnalysisJob], has_next: bool) -> AnalysisJobConnection:
        nodes = (
            (cursors.job_cursor(j.created_at, j.id), AnalysisJob.from_domain(j)) for j in found
        )
        edges, info = page(nodes, has_next)
        return cls(edges=edges, page_info=info)
