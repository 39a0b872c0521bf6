"""Analysis operations over a dataset (a pandas DataFrame, one row per item), each returning the
JSON result the API promises. Pure and synchronous: jobs run them in a worker process.

Each operation reads the columns it needs (``Parameters.columns``, or every numeric column), and
refuses with ``InvalidAnalysis`` what it cannot answer: no rows, no numeric column, a column that
does not exist, fewer rows than the operation needs.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.metrics import silhouette_score

from gql_analytics.errors import InvalidAnalysis
from gql_analytics.services.analysis import timeseries
from gql_analytics.services.analysis.parameters import (
    JSON,
    Parameters,
    Progress,
    bounded,
    existing,
    ignore,
    number,
    numeric_columns,
    numeric_names,
    seed_of,
)

TOP_VALUES = 5
MAX_K = 10
SILHOUETTE_SAMPLE = 2_000


def summary(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    if frame.empty:
        raise InvalidAnalysis("the dataset is empty")
    wanted = list(parameters.columns) if parameters.columns else list(frame.columns)
    existing(frame, wanted)
    columns: JSON = {}
    text: JSON = {}
    times: JSON = {}
    for name in wanted:
        series = frame[name]
        if pd.api.types.is_datetime64_any_dtype(series):
            present = series.dropna()
            times[str(name)] = {
                "count": int(present.size),
                "min": present.min().isoformat() if present.size else None,
                "max": present.max().isoformat() if present.size else None,
            }
        elif pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
            described = series.astype(float).describe()
            columns[str(name)] = {
                "count": int(described["count"]),
                "mean": number(described["mean"]),
                "std": number(described["std"]),
                "min": number(described["min"]),
                "q25": number(described["25%"]),
                "q50": number(described["50%"]),
                "q75": number(described["75%"]),
                "max": number(described["max"]),
            }
        else:
            counts = series.dropna().astype(str).value_counts()
            text[str(name)] = {
                "count": int(series.notna().sum()),
                "unique": int(counts.size),
                "top": [{"value": v, "count": int(n)} for v, n in counts.head(TOP_VALUES).items()],
            }
    return {"columns": columns, "text": text, "times": times}


CORRELATIONS: dict[str, Literal["pearson", "spearman"]] = {
    "pearson": "pearson",
    "spearman": "spearman",
}


def _correlation_method(parameters: Parameters) -> Literal["pearson", "spearman"]:
    asked = (parameters.method or "pearson").lower()
    method = CORRELATIONS.get(asked)
    if method is None:
        raise InvalidAnalysis(f"method: {asked!r} is not pearson or spearman")
    return method


def correlation(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    method = _correlation_method(parameters)
    values = numeric_columns(frame, parameters, least=2)
    # A correlation ignores each column's scale: brought within [-1, 1], no sum of squares
    # overflows (values near 1e200 gave 0.0 and NaN where the answer was 0.5 and 1).
    largest = values.abs().max().replace(0.0, 1.0)
    matrix = (values / largest).corr(method=method)
    return {
        "method": method,
        "columns": [str(c) for c in values.columns],
        "matrix": [[number(v) for v in row] for row in matrix.to_numpy()],
    }


def clustering(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """k-means (scikit-learn's defaults, seeded) on the numeric columns as they are (scale them
    first if their units differ); without ``k``, the k of 2..10 with the best silhouette."""
    values = bounded(numeric_columns(frame, parameters))
    data = values.to_numpy()
    seed = seed_of(parameters)
    candidates = _cluster_counts(len(data), parameters.k)
    best: tuple[float, KMeans] | None = None
    for done, k in enumerate(candidates, start=1):
        model = KMeans(n_clusters=k, random_state=seed).fit(data)
        score = _silhouette(data, model.labels_, seed)
        if best is None or score > best[0]:
            best = (score, model)
        progress(done / len(candidates))
    assert best is not None
    score, model = best
    labels = [int(label) for label in model.labels_]
    return {
        "k": int(model.n_clusters),
        "inertia": float(model.inertia_),
        "silhouette": number(score),
        "columns": [str(c) for c in values.columns],
        "centroids": [[float(v) for v in centre] for centre in model.cluster_centers_],
        "sizes": np.bincount(model.labels_, minlength=int(model.n_clusters)).tolist(),
        "labels": labels,
        "keys": keys_of(values.index),
    }


def _cluster_counts(rows: int, k: int | None) -> list[int]:
    """The k to try: the one given, or 2..10 (at most one fewer than the rows)."""
    if k is not None:
        if k < 2:
            raise InvalidAnalysis("k: at least 2 clusters")
        if rows <= k:
            raise InvalidAnalysis(f"k: {k} clusters need more than {rows} rows")
        return [k]
    if rows < 3:
        raise InvalidAnalysis(f"clustering needs at least 3 rows, got {rows}")
    return list(range(2, min(MAX_K, rows - 1) + 1))


def _silhouette(data: np.ndarray[Any, Any], labels: np.ndarray[Any, Any], seed: int) -> float:
    """The mean silhouette, over a fixed sample of rows when there are many: it compares every
    pair of rows, which would cost more than k-means itself past a few thousand rows."""
    if len(set(labels.tolist())) < 2:
        return float("nan")  # every row in one cluster: no separation to score
    sample = SILHOUETTE_SAMPLE if len(data) > SILHOUETTE_SAMPLE else None
    return float(silhouette_score(data, labels, sample_size=sample, random_state=seed))


def keys_of(index: pd.Index[Any]) -> list[Any]:
    """Row keys for JSON: user or task ids, positions, or buckets as ISO-8601 text."""
    if isinstance(index, pd.DatetimeIndex):
        return [moment.isoformat() for moment in index]
    return index.tolist()


def _regression_target(frame: pd.DataFrame, parameters: Parameters) -> str:
    if not parameters.target:
        raise InvalidAnalysis("target: name the column to explain")
    existing(frame, [parameters.target])
    return parameters.target


def regression(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """Ordinary least squares of ``target`` on the other columns, with an intercept."""
    target = _regression_target(frame, parameters)
    features = (
        [c for c in parameters.columns if c != target]
        if parameters.columns
        else [c for c in numeric_columns(frame, Parameters()).columns if c != target]
    )
    if not features:
        raise InvalidAnalysis("regression needs at least one numeric column besides the target")
    values = bounded(numeric_columns(frame, Parameters(columns=(*features, target))))
    y = values[target].to_numpy()
    x = np.column_stack([np.ones(len(values)), values[features].to_numpy()])
    rows, width = x.shape
    if rows <= width:
        raise InvalidAnalysis(f"regression on {width - 1} column(s) needs more than {width} rows")
    solution, _, rank, _ = np.linalg.lstsq(x, y, rcond=None)
    if rank < width:
        raise InvalidAnalysis("the columns are collinear: some is a combination of the others")
    residuals = y - x @ solution
    freedom = rows - width
    variance = float(residuals @ residuals) / freedom
    errors = np.sqrt(np.diag(variance * np.linalg.inv(x.T @ x)))
    with np.errstate(divide="ignore", invalid="ignore"):  # an exact fit: 0 / 0 is undefined
        t_values = solution / errors
    p_values = 2 * stats.t.sf(np.abs(t_values), freedom)
    total = float(((y - y.mean()) ** 2).sum())
    names = ["intercept", *map(str, features)]
    return {
        "target": target,
        "coefficients": {n: float(v) for n, v in zip(names[1:], solution[1:], strict=True)},
        "intercept": float(solution[0]),
        "r2": number(1 - float(residuals @ residuals) / total) if total else None,
        "stderr": {n: number(v) for n, v in zip(names, errors, strict=True)},
        "pvalues": {n: number(v) for n, v in zip(names, p_values, strict=True)},
        "rows": rows,
    }


def _tested_column(frame: pd.DataFrame, parameters: Parameters) -> str:
    column = parameters.target or (parameters.columns[0] if parameters.columns else None)
    if not column:
        raise InvalidAnalysis("target: name the column to test")
    existing(frame, [column])
    return column


def _compared_groups(frame: pd.DataFrame, parameters: Parameters) -> tuple[str, tuple[str, str]]:
    group_column, groups = parameters.group_column, parameters.groups
    if not group_column or not groups or len(groups) != 2:
        raise InvalidAnalysis("give popmean, or groupColumn and two groups")
    existing(frame, [group_column])
    return group_column, (groups[0], groups[1])


def t_test(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """One-sample against ``popmean``, or Welch's two-sample between the two ``groups`` of
    ``groupColumn``, on the one column named by ``target`` (or ``columns``)."""
    column = _tested_column(frame, parameters)
    values = bounded(numeric_columns(frame, Parameters(columns=(column,))))[column]
    if parameters.popmean is not None:
        if len(values) < 2:
            raise InvalidAnalysis("a t-test needs at least 2 values")
        if values.nunique() == 1:  # no spread: the statistic is 0 / 0 or infinite
            raise InvalidAnalysis(
                f"target: every value of {column} is {values.iloc[0]:g}; a t-test needs values"
                " that vary"
            )
        one = stats.ttest_1samp(values.to_numpy(), parameters.popmean)
        return {
            "kind": "one-sample",
            "statistic": float(one.statistic),
            "pvalue": float(one.pvalue),
            "df": float(len(values) - 1),
        }
    group_column, groups = _compared_groups(frame, parameters)
    labels = frame.loc[values.index, group_column].astype(str)
    samples = [values[labels == group].to_numpy() for group in groups]
    for group, sample in zip(groups, samples, strict=True):
        if len(sample) < 2:
            raise InvalidAnalysis(f"groups: {group!r} has fewer than 2 values")
    if all(np.ptp(sample) == 0 for sample in samples):
        raise InvalidAnalysis("groups: the values vary in neither group; a t-test needs spread")
    result = stats.ttest_ind(samples[0], samples[1], equal_var=False)
    return {
        "kind": "welch",
        "statistic": float(result.statistic),
        "pvalue": float(result.pvalue),
        "df": float(result.df),
    }


Operation = Callable[[pd.DataFrame, Parameters, Progress], JSON]

OPERATIONS: dict[str, Operation] = {
    "SUMMARY": summary,
    "CORRELATION": correlation,
    "CLUSTERING": clustering,
    "REGRESSION": regression,
    "ANOMALIES": timeseries.anomalies,
    "T_TEST": t_test,
    "FORECAST": timeseries.forecast,
}


def preflight(operation: str, frame: pd.DataFrame, parameters: Parameters) -> None:
    """Raise ``InvalidAnalysis`` for what the operation is sure to refuse, judged from the
    dataset's shape (columns, their types, the number of rows): cheap enough to check before a
    job is stored, so that bad input never becomes a job. What only the values can show (rows
    lost to missing values, collinear columns) fails the job instead."""
    if frame.empty:
        raise InvalidAnalysis("the dataset is empty")
    seed_of(parameters)
    named = [*(parameters.columns or ()), parameters.target, parameters.group_column]
    existing(frame, [name for name in named if name])
    match operation:
        case "SUMMARY":
            pass
        case "CORRELATION":
            _correlation_method(parameters)
            numeric_names(frame, parameters, least=2)
        case "CLUSTERING":
            numeric_names(frame, parameters)
            _cluster_counts(len(frame), parameters.k)
        case "REGRESSION":
            target = _regression_target(frame, parameters)
            numeric_names(frame, Parameters(columns=(target,)))
        case "T_TEST":
            numeric_names(frame, Parameters(columns=(_tested_column(frame, parameters),)))
            if parameters.popmean is None:
                _compared_groups(frame, parameters)
        case "ANOMALIES" | "FORECAST":
            timeseries.series_of(frame, parameters)
