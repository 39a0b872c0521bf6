"""Typed analysis results: one GraphQL type per operation, built from the job's JSON result, each
with ``raw`` holding that result whole (for keys the type does not name)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import strawberry
from strawberry.scalars import JSON


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
        return cls(
            method=result["method"],
            columns=result["columns"],
            matrix=result["matrix"],
            raw=JSON(result),
        )


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
        return cls(
            k=result["k"],
            inertia=result["inertia"],
            silhouette=result["silhouette"],
            columns=result["columns"],
            centroids=result["centroids"],
            sizes=result["sizes"],
            labels=result["labels"],
            keys=JSON(result["keys"]),
            raw=JSON(result),
        )


@strawberry.type
class Coefficient:
    name: str
    value: float
    stderr: float
    pvalue: float


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
        return cls(
            target=result["target"],
            intercept=result["intercept"],
            r2=result["r2"],
            rows=result["rows"],
            coefficients=[
                Coefficient(
                    name=name,
                    value=value,
                    stderr=result["stderr"][name],
                    pvalue=result["pvalues"][name],
                )
                for name, value in result["coefficients"].items()
            ],
            raw=JSON(result),
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
        return cls(
            kind=result["kind"],
            statistic=result["statistic"],
            pvalue=result["pvalue"],
            df=result["df"],
            raw=JSON(result),
        )


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
        return cls(
            column=result["column"],
            threshold=result["threshold"],
            anomalies=[
                Anomaly(**{**a, "bucket": datetime.fromisoformat(a["bucket"])})
                for a in result["anomalies"]
            ],
            raw=JSON(result),
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
        return cls(
            column=result["column"],
            level=result["level"],
            points=[
                ForecastPoint(**{**p, "bucket": datetime.fromisoformat(p["bucket"])})
                for p in result["points"]
            ],
            raw=JSON(result),
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
