from __future__ import annotations

import math
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gql_analytics.domain.stats import BucketStats, merge_all

values = st.floats(min_value=-1e6, max_value=1e6, allow_nan=False)


@given(st.lists(st.lists(values, max_size=30), max_size=8))
def test_merging_bucket_stats_equals_computing_them_directly(chunks: list[list[float]]) -> None:
    merged = merge_all(BucketStats.of(chunk) for chunk in chunks)
    direct = BucketStats.of(v for chunk in chunks for v in chunk)
    assert merged.count == direct.count
    assert merged.bins == direct.bins
    assert merged.low == direct.low
    assert merged.high == direct.high
    assert merged.total == pytest.approx(direct.total, rel=1e-9, abs=1e-6)
    assert merged.sum_squares == pytest.approx(direct.sum_squares, rel=1e-9, abs=1e-6)
    assert merged.summary().percentiles() == direct.summary().percentiles()


@given(st.lists(values, min_size=1, max_size=50))
def test_mean_and_stddev_match_the_statistics_module(sample: list[float]) -> None:
    stats = BucketStats.of(sample).summary()
    assert stats.mean == pytest.approx(statistics.fmean(sample), rel=1e-9, abs=1e-6)
    # Sum-of-squares variance (what a mergeable bucket can keep) loses about sqrt(machine epsilon)
    # of the magnitude to cancellation; that is the bound the answer must meet.
    cancellation = 3e-8 * max(abs(v) for v in sample)
    assert stats.stddev == pytest.approx(
        statistics.pstdev(sample), rel=1e-6, abs=cancellation + 1e-9
    )


def test_empty_stats_answer_none() -> None:
    empty = BucketStats().summary()
    assert (empty.mean, empty.stddev, empty.minimum, empty.maximum) == (None, None, None, None)
    assert empty.percentiles() == [None, None, None, None]
    assert math.isinf(empty.low)
