"""Typed analysis results: one GraphQL type per operation, built from the job's JSON result, each
with ``raw`` holding that result whole (for keys the type does not name)."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, TypeVar

import strawberry
from strawberry.scalars import JSON

T = TypeVar("T")


def _same_names(cls: type[T], result: dict[str, Any], **built: Any) -> T:
    """``cls`` from the result's keys of its fields' names, ``built`` for the others, and the
    whole result as ``raw``."""
    names = [f.name for f in dataclasses.fields(cls) if f.name != "raw"]  # type: ignore[arg-type]
    given = {name: result[name] for name in names if name not in built}
    build: Callable[..., T] = cls
    return build(**given, **built, raw=JSON(result))


def _timed(item: dict[str, Any]) -> dict[str, Any]:
    return {**item, "bucket": datetime.fromisoformat(item["bucket"])}


@strawberry.type
class ColumnSummary:
    name: str
    count: int
    mean: float | None
    std: float | None
    min: float | None
    q25: float | None
    q50: float | None
    q75: float | None
    max: float | None


@strawberry.type
class ValueCount:
    value: str
    count: int


@strawberry.type
class TextSummary:
    name: str
    count: int
    unique: int
    top: list[ValueCount]


@strawberry.type
class SummaryResult:
    numeric: list[ColumnSummary] = strawberry.field(description="raw.columns, as a list.")
    text: list[TextSummary]
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> SummaryResult:
        return cls(
            numeric=[ColumnSummary(name=n, **s) for n, s in result["columns"].items()],
            text=[
                TextSummary(
                    name=n,
                    count=s["count"],
                    unique=s["unique"],
                    top=[ValueCount(value=str(t["value"]), count=t["count"]) for t in s["top"]],
                )
                for n, s in result["text"].items()
            ],
            raw=JSON(result),
        )


@strawberry.type
class CorrelationResult:
    method: str
    columns: list[str]
    matrix: list[list[float | None]]
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> CorrelationResult:
        return _same_names(cls, result)


@strawberry.type
class ClusteringResult:
    k: int
    inertia: float
    silhouette: float | None
    columns: list[str]
    centroids: list[list[float]]
    sizes: list[int]
    labels: list[int] = strawberry.field(description="The cluster of each row, in row order.")
    keys: JSON = strawberry.field(description="Each row's key (user, task, bucket, position).")
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> ClusteringResult:
        return _same_names(cls, result)


@strawberry.type
class Coefficient:
    name: str
    value: float
    stderr: float | None = strawberry.field(description="Null where undefined (an exact fit).")
    pvalue: float | None = strawberry.field(description="Null where undefined (an exact fit).")


@strawberry.type
class RegressionResult:
    target: str
    intercept: float
    r2: float | None
    rows: int
    coefficients: list[Coefficient] = strawberry.field(
        description="One per explaining column; the intercept's stderr and p-value are in raw."
    )
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> RegressionResult:
        return _same_names(
            cls,
            result,
            coefficients=[
                Coefficient(
                    name=name,
                    value=value,
                    stderr=result["stderr"][name],
                    pvalue=result["pvalues"][name],
                )
                for name, value in result["coefficients"].items()
            ],
        )


@strawberry.type
class TTestResult:
    kind: str = strawberry.field(description="one-sample or welch")
    statistic: float
    pvalue: float
    df: float
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> TTestResult:
        return _same_names(cls, result)


@strawberry.type
class Anomaly:
    bucket: datetime
    value: float
    expected: float
    score: float = strawberry.field(description="The residual's robust z-score.")
    method: str = strawberry.field(description="robust_z, or robust_z+isolation_forest")
    isolation: float = strawberry.field(description="IsolationForest's score, 0 to 1.")


@strawberry.type
class AnomaliesResult:
    column: str
    threshold: float
    anomalies: list[Anomaly]
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> AnomaliesResult:
        return _same_names(
            cls, result, anomalies=[Anomaly(**_timed(a)) for a in result["anomalies"]]
        )


@strawberry.type
class ForecastPoint:
    bucket: datetime
    value: float
    lower: float
    upper: float


@strawberry.type
class ForecastResult:
    column: str
    level: float
    points: list[ForecastPoint]
    raw: JSON

    @classmethod
    def of(cls, result: dict[str, Any]) -> ForecastResult:
        return _same_names(
            cls, result, points=[ForecastPoint(**_timed(p)) for p in result["points"]]
        )


AnalysisResult = Annotated[
    SummaryResult
    | CorrelationResult
    | ClusteringResult
    | RegressionResult
    | AnomaliesResult
    | TTestResult
    | ForecastResult,
    strawberry.union(
        "AnalysisResult", description="The result of a SUCCEEDED job, typed by its operation."
    ),
]

RESULT_TYPES: dict[str, Any] = {
    "SUMMARY": SummaryResult,
    "CORRELATION": CorrelationResult,
    "CLUSTERING": ClusteringResult,
    "REGRESSION": RegressionResult,
    "ANOMALIES": AnomaliesResult,
    "T_TEST": TTestResult,
    "FORECAST": ForecastResult,
}


def typed(operation: str, result: Any) -> AnalysisResult | None:
    if result is None:
        return None
    built: AnalysisResult = RESULT_TYPES[operation].of(result)
    return built
