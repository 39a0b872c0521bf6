"""A question: measures of the records of one kind, grouped by dimensions (and time buckets),
filtered, over a range, ordered and limited; and the cells that answer it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query import conditions
from gql_analytics.domain.query.conditions import Condition
from gql_analytics.domain.query.fields import Field
from gql_analytics.domain.query.measures import Measure
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.errors import InvalidInput

MAX_MEASURES = 20
MAX_DIMENSIONS = 5
MAX_LIMIT = 1000

Key = tuple[str | None, ...]
"""A group's dimension values, in the order the question names its dimensions."""


@dataclass(frozen=True, slots=True)
class Order:
    """Groups ordered by a measure (by index), or by a dimension's value; ties by the key."""

    measure: int | None = 0
    dimension: int | None = None
    descending: bool = True


@dataclass(frozen=True, slots=True)
class Question:
    tenant: str
    kind: str  # rollup.EVENT or rollup.METRIC
    measures: tuple[Measure, ...]
    time_range: TimeRange
    names: tuple[str, ...] | None = None
    dimensions: tuple[Field, ...] = ()
    calendar: Calendar | None = None  # buckets (an interval on a zone's clock), if any
    where: Condition | None = None
    order: Order = Order()
    limit: int = 100
    other: bool = False  # the groups past ``limit``, merged into one more group

    def check(self) -> Question:
        """This question, or a coded error saying what is wrong with it."""
        if not 1 <= len(self.measures) <= MAX_MEASURES:
            raise InvalidInput(
                f"measures: between 1 and {MAX_MEASURES}, got {len(self.measures)}",
                field="measures",
            )
        if len(self.dimensions) > MAX_DIMENSIONS:
            raise InvalidInput(
                f"groupBy: at most {MAX_DIMENSIONS} dimensions, got {len(self.dimensions)}",
                field="groupBy",
            )
        if not 1 <= self.limit <= MAX_LIMIT:
            raise InvalidInput(f"limit: must be between 1 and {MAX_LIMIT}", field="limit")
        for measure in self.measures:
            measure.check(self.kind)
        for dimension in self.dimensions:
            dimension.check(self.kind, "groupBy")
        if self.where is not None:
            conditions.check(self.where, self.kind)
        order = self.order
        if (order.measure is None) == (order.dimension is None):
            raise InvalidInput("orderBy: give a measure or a dimension, not both", field="orderBy")
        if order.measure is not None and not 0 <= order.measure < len(self.measures):
            raise InvalidInput("orderBy: measure is an index into measures", field="orderBy")
        if order.dimension is not None and not 0 <= order.dimension < len(self.dimensions):
            raise InvalidInput("orderBy: dimension is an index into groupBy", field="orderBy")
        return self

    def whole(self) -> Question:
        """The same question over the whole range, without buckets."""
        return replace(self, calendar=None)


@dataclass(frozen=True, slots=True)
class Cell:
    """The measures of one group over one bucket, or over the whole range (``bucket`` None).
    ``other``: the groups past the limit, merged (its key is all None)."""

    key: Key
    bucket: datetime | None
    values: tuple[float | None, ...]
    other: bool = False


def rank(totals: Sequence[Cell], order: Order) -> list[Cell]:
    """Whole-range cells in the question's order: by the measure (or dimension) asked, values
    that are None last, then by key ascending with None last."""

    def key_order(key: Key) -> tuple[Any, ...]:
        return tuple((part is None, part or "") for part in key)

    def sort_key(cell: Cell) -> tuple[Any, ...]:
        if order.measure is not None:
            value = cell.values[order.measure]
            first: tuple[Any, ...] = (
                value is None,
                0.0 if value is None else (-value if order.descending else value),
            )
            return (*first, key_order(cell.key))
        assert order.dimension is not None
        part = cell.key[order.dimension]
        return (
            part is None,
            _Reversed(part or "") if order.descending else part or "",
            key_order(cell.key),
        )

    return sorted(totals, key=sort_key)


@dataclass(frozen=True, slots=True)
class _Reversed:
    """A string that sorts in reverse."""

    text: str

    def __lt__(self, other: _Reversed) -> bool:
        return self.text > other.text
