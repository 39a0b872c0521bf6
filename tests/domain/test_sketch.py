from __future__ import annotations

import math

from hypothesis import given
from hypothesis import strategies as st

from gql_analytics.domain import sketch

finite = st.floats(min_value=-1e12, max_value=1e12, allow_nan=False, allow_infinity=False)
latencies = st.floats(min_value=1e-3, max_value=1e6, allow_nan=False)


def true_quantile(values: list[float], q: float) -> float:
    return sorted(values)[max(math.ceil(q * len(values)) - 1, 0)]


def estimate_of(values: list[float], q: float) -> float:
    (estimate,) = sketch.quantiles(sketch.histogram(values), [q], low=min(values), high=max(values))
    assert estimate is not None
    return estimate


@given(st.lists(latencies, min_size=1, max_size=400), st.floats(min_value=0, max_value=1))
def test_quantiles_are_within_one_percent_of_the_true_value(values: list[float], q: float) -> None:
    estimate, expected = estimate_of(values, q), true_quantile(values, q)
    assert abs(estimate - expected) <= sketch.ALPHA * abs(expected) + 1e-12


@given(st.lists(finite, min_size=1, max_size=200), st.floats(min_value=0, max_value=1))
def test_quantiles_hold_for_negative_and_zero_values(values: list[float], q: float) -> None:
    estimate, expected = estimate_of(values, q), true_quantile(values, q)
    assert abs(estimate - expected) <= sketch.ALPHA * abs(expected) + sketch.MIN_MAGNITUDE


@given(finite, finite)
def test_bin_ids_are_ordered_like_their_values(a: float, b: float) -> None:
    if a <= b:
        assert sketch.bin_of(a) <= sketch.bin_of(b)


def test_extremes_are_exact() -> None:
    values = [3.0, 10.0, 250.0, 1000.0]
    bins = sketch.histogram(values)
    assert sketch.quantiles(bins, [0.0, 1.0], low=3.0, high=1000.0) == [3.0, 1000.0]


def test_empty_histogram_has_no_quantiles() -> None:
    assert sketch.quantiles({}, [0.5], low=math.inf, high=-math.inf) == [None]
