"""Each operation against a direct call of the library on the same data."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.cluster import KMeans
from sklearn.datasets import load_diabetes, load_iris
from sklearn.metrics import adjusted_rand_score, silhouette_score

from gql_analytics.errors import InvalidAnalysis
from gql_analytics.services.analysis.operations import (
    OPERATIONS,
    clustering,
    correlation,
    preflight,
    regression,
    summary,
    t_test,
)
from gql_analytics.services.analysis.parameters import Parameters, ignore
from gql_analytics.services.analysis.rows import frame_of_rows


@pytest.fixture(scope="module")
def iris() -> pd.DataFrame:
    frame: pd.DataFrame = load_iris(as_frame=True).frame
    return frame.rename(columns=lambda c: c.replace(" (cm)", "").replace(" ", "_"))


@pytest.fixture(scope="module")
def diabetes() -> pd.DataFrame:
    frame: pd.DataFrame = load_diabetes(as_frame=True).frame
    return frame


def close(a: float | None, b: float, rel: float = 1e-9) -> bool:
    return a is not None and a == pytest.approx(b, rel=rel, abs=1e-12)


def test_summary_equals_pandas_describe(iris: pd.DataFrame) -> None:
    result = summary(iris, Parameters())
    described = iris.describe()
    for column in described.columns:
        ours = result["columns"][column]
        theirs = described[column]
        assert ours["count"] == theirs["count"]
        for key, name in [
            ("mean", "mean"),
            ("std", "std"),
            ("min", "min"),
            ("q25", "25%"),
            ("q50", "50%"),
            ("q75", "75%"),
            ("max", "max"),
        ]:
            assert close(ours[key], theirs[name]), (column, key)


def test_summary_gives_top_values_for_text_columns() -> None:
    frame = frame_of_rows([{"plan": "pro"}, {"plan": "free"}, {"plan": "pro"}, {"plan": None}])
    assert summary(frame, Parameters())["text"]["plan"] == {
        "count": 3,
        "unique": 2,
        "top": [{"value": "pro", "count": 2}, {"value": "free", "count": 1}],
    }


def test_summary_gives_the_span_of_time_columns() -> None:
    moments = pd.to_datetime(pd.Index(["2026-11-02T10:00Z", None, "2026-11-01T09:30Z"]), utc=True)
    frame = pd.DataFrame({"completed_at": moments})
    assert summary(frame, Parameters())["times"]["completed_at"] == {
        "count": 2,
        "min": "2026-11-01T09:30:00+00:00",
        "max": "2026-11-02T10:00:00+00:00",
    }


@pytest.mark.parametrize("method", ["pearson", "spearman"])
def test_correlation_equals_pandas(
    iris: pd.DataFrame, method: Literal["pearson", "spearman"]
) -> None:
    result = correlation(iris, Parameters(method=method))
    numeric = iris.select_dtypes("number")
    expected = numeric.corr(method=method).to_numpy()
    assert result["columns"] == list(numeric.columns)
    assert np.allclose(np.array(result["matrix"], dtype=float), expected, rtol=1e-12)


def test_kmeans_equals_scikit_learn_on_iris(iris: pd.DataFrame) -> None:
    features = ("sepal_length", "sepal_width", "petal_length", "petal_width")
    result = clustering(iris, Parameters(columns=features, k=3, seed=42))
    direct = KMeans(n_clusters=3, random_state=42).fit(iris[list(features)].to_numpy())
    assert close(result["inertia"], direct.inertia_)
    assert adjusted_rand_score(result["labels"], direct.labels_) == 1.0
    assert sorted(result["sizes"]) == sorted(np.bincount(direct.labels_).tolist())
    assert close(result["silhouette"], silhouette_score(iris[list(features)], direct.labels_))


def test_kmeans_without_k_takes_the_best_silhouette(iris: pd.DataFrame) -> None:
    features = ["petal_length", "petal_width"]
    result = clustering(iris, Parameters(columns=tuple(features), seed=0))
    data = iris[features].to_numpy()
    scores = {
        k: silhouette_score(data, KMeans(n_clusters=k, random_state=0).fit(data).labels_)
        for k in range(2, 11)
    }
    assert result["k"] == max(scores, key=lambda k: scores[k])
    assert close(result["silhouette"], scores[result["k"]])


def test_ols_equals_least_squares_on_diabetes(diabetes: pd.DataFrame) -> None:
    result = regression(diabetes, Parameters(target="target"))
    features = [c for c in diabetes.columns if c != "target"]
    x = np.column_stack([np.ones(len(diabetes)), diabetes[features].to_numpy()])
    y = diabetes["target"].to_numpy()
    solution, residual, _, _ = np.linalg.lstsq(x, y, rcond=None)
    assert close(result["intercept"], solution[0])
    for name, value in zip(features, solution[1:], strict=True):
        assert close(result["coefficients"][name], value), name
    r2 = 1 - residual[0] / ((y - y.mean()) ** 2).sum()
    assert close(result["r2"], r2)


def test_ols_standard_errors_and_p_values_equal_scipy_linregress(diabetes: pd.DataFrame) -> None:
    result = regression(diabetes, Parameters(target="target", columns=("bmi",)))
    direct = stats.linregress(diabetes["bmi"], diabetes["target"])
    assert close(result["coefficients"]["bmi"], direct.slope)
    assert close(result["intercept"], direct.intercept)
    assert close(result["stderr"]["bmi"], direct.stderr)
    assert close(result["stderr"]["intercept"], direct.intercept_stderr)
    assert close(result["pvalues"]["bmi"], direct.pvalue, rel=1e-6)
    assert close(result["r2"], direct.rvalue**2)


def test_one_sample_t_test_equals_scipy(iris: pd.DataFrame) -> None:
    result = t_test(iris, Parameters(target="sepal_length", popmean=5.8))
    direct = stats.ttest_1samp(iris["sepal_length"], 5.8)
    assert close(result["statistic"], float(direct.statistic))
    assert close(result["pvalue"], float(direct.pvalue))
    assert result["df"] == len(iris) - 1


def test_welch_t_test_equals_scipy(iris: pd.DataFrame) -> None:
    result = t_test(
        iris, Parameters(target="petal_width", group_column="target", groups=("1", "2"))
    )
    a = iris.loc[iris["target"] == 1, "petal_width"]
    b = iris.loc[iris["target"] == 2, "petal_width"]
    direct = stats.ttest_ind(a, b, equal_var=False)
    assert close(result["statistic"], float(direct.statistic))
    assert close(result["pvalue"], float(direct.pvalue))
    assert close(result["df"], float(direct.df))


ROWS = [{"a": 1.0, "b": 2.0, "name": "x"}, {"a": 2.0, "b": 4.5, "name": "y"}]


@pytest.mark.parametrize(
    ("run", "frame", "complaint"),
    [
        (summary, pd.DataFrame(), "empty"),
        (clustering, frame_of_rows(ROWS), "more than 2 rows"),
        (correlation, frame_of_rows([{"name": "x"}, {"name": "y"}]), "numeric column"),
        (correlation, frame_of_rows(ROWS), "no column nope"),
        (regression, frame_of_rows(ROWS), "target"),
    ],
    ids=[
        "empty dataset",
        "fewer rows than clusters",
        "no numeric column",
        "unknown column",
        "no target",
    ],
)
def test_what_an_operation_cannot_answer_is_refused_with_the_reason(
    run: Any, frame: pd.DataFrame, complaint: str
) -> None:
    parameters = Parameters(k=3) if run is clustering else Parameters()
    if complaint.startswith("no column"):
        parameters = Parameters(columns=("a", "nope"))
    with pytest.raises(InvalidAnalysis, match=complaint):
        run(frame, parameters)
    name = next(name for name, operation in OPERATIONS.items() if operation is run)
    with pytest.raises(InvalidAnalysis, match=complaint):
        preflight(name, frame, parameters)  # found before any job is stored


@pytest.mark.parametrize(
    ("operation", "parameters"),
    [
        ("SUMMARY", Parameters()),
        ("CORRELATION", Parameters(method="spearman")),
        ("CLUSTERING", Parameters(k=3)),
        ("REGRESSION", Parameters(target="petal_width")),
        ("T_TEST", Parameters(target="petal_width", popmean=1.0)),
        ("T_TEST", Parameters(target="petal_width", group_column="target", groups=("1", "2"))),
    ],
)
def test_preflight_passes_what_the_operation_answers(
    iris: pd.DataFrame, operation: str, parameters: Parameters
) -> None:
    preflight(operation, iris, parameters)
    OPERATIONS[operation](iris, parameters, ignore)


@pytest.mark.parametrize(
    ("rows", "complaint"),
    [
        ([], "non-empty"),
        ([{"a": float("nan")}], "finite"),
        ([{"a": float("inf")}], "finite"),
        ([{"a": {"nested": 1}}], "flat"),
        ([{"a": 1}] * 10_001, "at most 10,000"),
    ],
    ids=["no rows", "NaN", "infinity", "nested value", "too many rows"],
)
def test_unusable_inline_rows_are_refused(rows: list[Any], complaint: str) -> None:
    with pytest.raises(InvalidAnalysis, match=complaint):
        frame_of_rows(rows)


HUGE = pd.DataFrame(
    {
        "x": [1e308, -1e308, 1e308, -1e308, 0.5e308, -0.5e308],
        "y": [-1e308, 1e308, 1e308, -1e308, 0.0, 1e307],
    }
)
CONSTANT_GROUPS = pd.DataFrame({"a": [1.0, 1.0, 2.0, 2.0], "g": ["x", "x", "y", "y"]})


@pytest.mark.parametrize(
    ("run", "frame", "parameters", "complaint"),
    [
        (t_test, pd.DataFrame({"a": [3.0] * 5}), Parameters(target="a", popmean=3.0), "vary"),
        (t_test, pd.DataFrame({"a": [3.0] * 5}), Parameters(target="a", popmean=1.0), "vary"),
        (
            t_test,
            CONSTANT_GROUPS,
            Parameters(target="a", group_column="g", groups=("x", "y")),
            "neither group",
        ),
        (regression, HUGE, Parameters(target="y"), "overflow"),
        (clustering, HUGE, Parameters(), "overflow"),
        (t_test, HUGE, Parameters(target="x", popmean=0.0), "overflow"),
    ],
    ids=[
        "constant at the mean",
        "constant off the mean",
        "constant groups",
        "regression near 1e308",
        "clustering near 1e308",
        "t-test near 1e308",
    ],
)
def test_values_that_leave_a_statistic_undefined_or_overflowing_are_refused(
    run: Any, frame: pd.DataFrame, parameters: Parameters, complaint: str
) -> None:
    with pytest.raises(InvalidAnalysis, match=complaint):
        run(frame, parameters)


def test_correlation_of_values_near_1e200_is_exact() -> None:
    frame = pd.DataFrame({"a": [1e200, 2e200, 3e200], "b": [1.0, 3.0, 2.0]})
    result = correlation(frame, Parameters())
    assert np.allclose(np.array(result["matrix"], dtype=float), [[1.0, 0.5], [0.5, 1.0]])


def test_the_undefined_p_values_of_an_exact_fit_are_null() -> None:
    frame = pd.DataFrame({"x": [1.0, 2.0, 3.0, 4.0], "y": [0.0] * 4})
    result = regression(frame, Parameters(target="y"))
    assert result["pvalues"] == {"intercept": None, "x": None}


@pytest.mark.parametrize("operation", ["CLUSTERING", "ANOMALIES"])
@pytest.mark.parametrize("seed", [-5, 2**32])
def test_a_seed_scikit_learn_cannot_take_is_refused_before_a_job(
    iris: pd.DataFrame, operation: str, seed: int
) -> None:
    with pytest.raises(InvalidAnalysis, match="seed: between 0 and 4294967295"):
        preflight(operation, iris, Parameters(seed=seed))
