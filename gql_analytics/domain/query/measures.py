"""What a question measures of each group, and how a group's records give it."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass

from gql_analytics.domain import sketch
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.rollup import METRIC
from gql_analytics.errors import InvalidInput


class Op(enum.Enum):
    COUNT = "count"
    DISTINCT_USERS = "distinct_users"
    SUM = "sum"
    AVG = "avg"
    MIN = "min"
    MAX = "max"
    STDDEV = "stddev"  # population
    P50 = "p50"
    P90 = "p90"
    P95 = "p95"
    P99 = "p99"

    @property
    def quantile(self) -> float | None:
        return QUANTILES.get(self)


QUANTILES = {Op.P50: 0.5, Op.P90: 0.9, Op.P95: 0.95, Op.P99: 0.99}
OF_RECORDS = frozenset({Op.COUNT, Op.DISTINCT_USERS})


@dataclass(frozen=True, slots=True)
class Measure:
    """``op`` of the numbers in ``field`` (a metric's value, an event's numeric property);
    COUNT and DISTINCT_USERS take no field."""

    op: Op
    field: Field | None = None

    def check(self, kind: str, where: str = "measures") -> None:
        if self.op in OF_RECORDS:
            if self.field is not None:
                raise InvalidInput(f"{where}: {self.op.name} takes no field", field=where)
            if self.op is Op.DISTINCT_USERS and kind == METRIC:
                raise InvalidInput(f"{where}: metric points have no user", field=where)
            return
        if self.field is None:
            raise InvalidInput(
                f"{where}: {self.op.name} needs a numeric field: an event property, or a "
                "metric's value",
                field=where,
            )
        self.field.check(kind, where)
        if self.field.attribute not in (Attribute.PROPERTY, Attribute.VALUE):
            raise InvalidInput(
                f"{where}: {self.op.name} measures an event property or a metric's value",
                field=where,
            )

    @property
    def label(self) -> str:
        if self.field is None:
            return self.op.value
        return f"{self.op.value}({self.field.label})"


def of_values(op: Op, values: Sequence[float]) -> float | None:
    """``op`` of a group's numbers (not COUNT or DISTINCT_USERS); None when there are none.
    Quantiles are the nearest-rank value's histogram bin, as rollups give them, so an answer is
    the same whether it was read from rollups or from raw records."""
    if not values:
        return None
    if op is Op.SUM:
        return math.fsum(values)
    if op is Op.AVG:
        return math.fsum(values) / len(values)
    if op is Op.MIN:
        return min(values)
    if op is Op.MAX:
        return max(values)
    if op is Op.STDDEV:
        mean = math.fsum(values) / len(values)
        return math.sqrt(max(math.fsum(v * v for v in values) / len(values) - mean * mean, 0.0))
    quantile = QUANTILES[op]
    (chosen,) = sketch.rank_bins(sketch.histogram(values), [quantile])
    return sketch.value_of(chosen, low=min(values), high=max(values))
