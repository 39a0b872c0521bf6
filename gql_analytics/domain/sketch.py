"""A log-bucketed histogram (DDSketch's mapping) whose quantiles are within 1 % relative error.

A value ``v`` lands in bin ``ceil(log_gamma(|v|))``; every value of that bin is within ``ALPHA``
of the bin's representative, so a quantile read from the bins is within ``ALPHA`` of the true value
at that rank. Bins are plain counters: merging two histograms is adding their bins, which a store
does with ``+`` in SQL or ``$inc`` in MongoDB.

Bin ids are encoded into one signed integer whose order is the order of the values: ``0`` holds
zero (and magnitudes too small to index), positive values get ``OFFSET + k``, negative values
``-(OFFSET + k)``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence

ALPHA = 0.01
GAMMA = (1 + ALPHA) / (1 - ALPHA)
LOG_GAMMA = math.log(GAMMA)
MIN_MAGNITUDE = 1e-9
MAX_MAGNITUDE = 1e15
_MIN_KEY = math.ceil(math.log(MIN_MAGNITUDE) / LOG_GAMMA)
MAX_KEY = math.ceil(math.log(MAX_MAGNITUDE) / LOG_GAMMA)
OFFSET = 1 - _MIN_KEY  # keeps every positive bin id >= 1


def bin_of(value: float) -> int:
    magnitude = abs(value)
    if magnitude < MIN_MAGNITUDE:
        return 0
    key = min(math.ceil(math.log(magnitude) / LOG_GAMMA), MAX_KEY)
    return OFFSET + key if value > 0 else -(OFFSET + key)


def representative(bin_id: int) -> float:
    """The value that stands for every value of a bin, within ``ALPHA`` of each of them."""
    if bin_id == 0:
        return 0.0
    key = abs(bin_id) - OFFSET
    magnitude = 2 * GAMMA**key / (GAMMA + 1)
    return magnitude if bin_id > 0 else -magnitude


def histogram(values: Iterable[float]) -> dict[int, int]:
    return count_bins(map(bin_of, values))


def count_bins(bin_ids: Iterable[int]) -> dict[int, int]:
    bins: dict[int, int] = {}
    for bin_id in bin_ids:
        bins[bin_id] = bins.get(bin_id, 0) + 1
    return bins


def merge_bins(*many: Mapping[int, int]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for bins in many:
        for bin_id, count in bins.items():
            merged[bin_id] = merged.get(bin_id, 0) + count
    return merged


def rank_bins(bins: Mapping[int, int], qs: Sequence[float]) -> list[int | None]:
    """The bin holding each quantile ``q`` by nearest rank: the bin of the ``max(ceil(q * n), 1)``-th
    smallest value, as SQL's ``quantile_disc`` ranks. A store may run this same rule in its own
    query language (the DuckDB store does, in SQL); the contract suite holds both to it.
    """
    total = sum(bins.values())
    if total == 0:
        return [None for _ in qs]
    ordered = sorted(bins.items())
    chosen: list[int | None] = []
    for q in qs:
        rank = max(math.ceil(q * total), 1)
        seen = 0
        for bin_id, count in ordered:
            seen += count
            if seen >= rank:
                chosen.append(bin_id)
                break
    return chosen


def value_of(bin_id: int | None, *, low: float, high: float) -> float | None:
    """A quantile's value from its bin, clamped to the exact minimum and maximum of the data
    so that q=0 and q=1 are exact."""
    if bin_id is None:
        return None
    return min(max(representative(bin_id), low), high)


def quantiles(
    bins: Mapping[int, int], qs: Sequence[float], *, low: float, high: float
) -> list[float | None]:
    """Quantiles at ``qs`` (each in [0, 1]), within ``ALPHA`` of the true nearest-rank value."""
    return [value_of(b, low=low, high=high) for b in rank_bins(bins, qs)]
