"""Bucket statistics: mergeable ones as rollups hold them, and summaries as queries read them."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from gql_analytics.domain import sketch

PERCENTILES = (0.5, 0.9, 0.95, 0.99)


@dataclass(frozen=True, slots=True)
class BucketStats:
    """count, sum, min, max, sum of squares and histogram bins of the values in a bucket.

    Every field merges by addition (min/max by min/max), so a range's statistics are the merge of
    its buckets' statistics, whatever order or grouping they are merged in.
    """

    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    sum_squares: float = 0.0
    bins: Mapping[int, int] = field(default_factory=dict)

    @classmethod
    def of(cls, values: Iterable[float], bin_ids: Iterable[int] | None = None) -> BucketStats:
        """Statistics of ``values``; ``bin_ids``, when given, are their bins, already computed."""
        collected = list(values)
        if not collected:
            return cls()
        bins = sketch.count_bins(map(sketch.bin_of, collected) if bin_ids is None else bin_ids)
        return cls(
            count=len(collected),
            total=math.fsum(collected),
            low=min(collected),
            high=max(collected),
            sum_squares=math.fsum(v * v for v in collected),
            bins=bins,
        )

    def merge(self, other: BucketStats) -> BucketStats:
        return BucketStats(
            count=self.count + other.count,
            total=self.total + other.total,
            low=min(self.low, other.low),
            high=max(self.high, other.high),
            sum_squares=self.sum_squares + other.sum_squares,
            bins=sketch.merge_bins(self.bins, other.bins),
        )

    def summary(self, qs: Sequence[float] = PERCENTILES) -> BucketSummary:
        return BucketSummary(
            count=self.count,
            total=self.total,
            low=self.low,
            high=self.high,
            sum_squares=self.sum_squares,
            quantile_bins=dict(zip(qs, sketch.rank_bins(self.bins, qs), strict=True)),
        )


@dataclass(frozen=True, slots=True)
class BucketSummary:
    """What a query reads back for a bucket: the moments, and the bin of each quantile asked for
    (the bins themselves stay in the store)."""

    count: int = 0
    total: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    sum_squares: float = 0.0
    quantile_bins: Mapping[float, int | None] = field(default_factory=dict)

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    @property
    def stddev(self) -> float | None:
        """Population standard deviation."""
        if not self.count:
            return None
        mean = self.total / self.count
        return math.sqrt(max(self.sum_squares / self.count - mean * mean, 0.0))

    @property
    def minimum(self) -> float | None:
        return self.low if self.count else None

    @property
    def maximum(self) -> float | None:
        return self.high if self.count else None

    def percentiles(self, qs: Sequence[float] = PERCENTILES) -> list[float | None]:
        return [
            sketch.value_of(self.quantile_bins.get(q), low=self.low, high=self.high) for q in qs
        ]


def merge_all(many: Iterable[BucketStats]) -> BucketStats:
    merged = BucketStats()
    for stats in many:
        merged = merged.merge(stats)
    return merged
