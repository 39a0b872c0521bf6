"""A question in GraphQL: what to measure, by what, of which records; and the breakdown it gets."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

import strawberry

from gql_analytics.domain.query import conditions as domain_conditions
from gql_analytics.domain.query import measures as domain_measures
from gql_analytics.domain.query.fields import Attribute as DomainAttribute
from gql_analytics.domain.query.fields import Field
from gql_analytics.domain.query.question import Order as DomainOrder
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.entrypoints.graphql.scalars import JSON
from gql_analytics.errors import InvalidInput
from gql_analytics.services.answers import Breakdown as DomainBreakdown


@strawberry.enum(description="Which records a question is about.")
class RecordKind(enum.Enum):
    EVENTS = EVENT
    METRICS = METRIC


@strawberry.enum(description="What a measure computes of each group.")
class MeasureOp(enum.Enum):
    COUNT = "COUNT"
    DISTINCT_USERS = "DISTINCT_USERS"
    SUM = "SUM"
    AVG = "AVG"
    MIN = "MIN"
    MAX = "MAX"
    STDDEV = "STDDEV"
    P50 = "P50"
    P90 = "P90"
    P95 = "P95"
    P99 = "P99"


@strawberry.enum(description="What of a record a dimension or a condition reads.")
class Attribute(enum.Enum):
    NAME = "NAME"
    SOURCE = "SOURCE"
    USER = "USER"
    PROPERTY = "PROPERTY"
    TAG = "TAG"
    VALUE = "VALUE"

    def field(self, key: str | None) -> Field:
        return Field(DomainAttribute[self.value], key)


@strawberry.input(
    description="A measure: COUNT and DISTINCT_USERS of the records, or an op of a numeric "
    "event property (property) or of a metric's value (property omitted)."
)
class MeasureInput:
    op: MeasureOp
    property: str | None = None

    def to_domain(self, kind: RecordKind) -> domain_measures.Measure:
        op = domain_measures.Op[self.op.value]
        if self.property is not None:
            return domain_measures.Measure(op, Field(DomainAttribute.PROPERTY, self.property))
        if kind is RecordKind.METRICS and op not in domain_measures.OF_RECORDS:
            return domain_measures.Measure(op, Field(DomainAttribute.VALUE))
        return domain_measures.Measure(op)


@strawberry.input(description="A dimension: NAME, SOURCE, USER, or a PROPERTY or TAG by key.")
class DimensionInput:
    by: Attribute
    key: str | None = None

    def to_domain(self) -> Field:
        return self.by.field(self.key)


@strawberry.input(
    description="A comparison of one attribute: give exactly one of eq, ne, in, exists, gt, "
    "gte, lt, lte. eq/ne/in compare like with like (a string equals only that string, a "
    "number an equal number); a record without the attribute matches only exists: false and ne."
)
class Match:
    by: Attribute
    key: str | None = None
    eq: JSON | None = strawberry.UNSET
    ne: JSON | None = strawberry.UNSET
    in_: list[JSON] | None = strawberry.field(name="in", default=strawberry.UNSET)
    exists: bool | None = strawberry.UNSET
    gt: float | None = strawberry.UNSET
    gte: float | None = strawberry.UNSET
    lt: float | None = strawberry.UNSET
    lte: float | None = strawberry.UNSET

    def to_domain(self, where: str = "where") -> domain_conditions.Compare:
        given: list[tuple[domain_conditions.Op, Any]] = [
            (op, value)
            for op, value in (
                (domain_conditions.Op.EQ, self.eq),
                (domain_conditions.Op.NE, self.ne),
                (domain_conditions.Op.IN, self.in_),
                (domain_conditions.Op.EXISTS, self.exists),
                (domain_conditions.Op.GT, self.gt),
                (domain_conditions.Op.GTE, self.gte),
                (domain_conditions.Op.LT, self.lt),
                (domain_conditions.Op.LTE, self.lte),
            )
            if value is not strawberry.UNSET and value is not None
        ]
        if len(given) != 1:
            raise InvalidInput(
                f"{where}: a match takes exactly one of eq, ne, in, exists, gt, gte, lt, lte",
                field=where,
            )
        ((op, value),) = given
        if op is domain_conditions.Op.IN:
            value = tuple(value)
        return domain_conditions.Compare(self.by.field(self.key), op, value)


@strawberry.input(
    one_of=True,
    description="A condition on records: a match, or all / any of conditions, or not one.",
)
class Condition:
    match: Match | None = strawberry.UNSET
    all: list[Condition] | None = strawberry.UNSET
    any: list[Condition] | None = strawberry.UNSET
    not_: Condition | None = strawberry.field(name="not", default=strawberry.UNSET)

    def to_domain(self, where: str = "where") -> domain_conditions.Condition:
        """The domain's condition; ``where`` names the argument in errors."""
        if self.match:
            return self.match.to_domain(where)
        if self.all:
            return domain_conditions.AllOf(tuple(c.to_domain(where) for c in self.all))
        if self.any:
            return domain_conditions.AnyOf(tuple(c.to_domain(where) for c in self.any))
        if self.not_:
            return domain_conditions.Not(self.not_.to_domain(where))
        raise InvalidInput(f"{where}: all and any need at least one condition", field=where)


@strawberry.input(
    description="Order of the groups: by a measure or a dimension (an index into measures or "
    "groupBy); ties by the group's key. Default: the first measure, largest first."
)
class OrderInput:
    measure: int | None = None
    dimension: int | None = None
    descending: bool = True

    def to_domain(self) -> DomainOrder:
        if self.measure is None and self.dimension is None:
            return DomainOrder(measure=0, descending=self.descending)
        return DomainOrder(self.measure, self.dimension, self.descending)


@strawberry.type(description="A group's measures at one bucket.")
class BreakdownPoint:
    start: datetime
    values: list[float | None]


@strawberry.type(
    description="One group: its key, its measures over the whole range, and per bucket."
)
class BreakdownGroup:
    key: list[str | None] = strawberry.field(
        description="The group's value of each dimension, in the order of groupBy (null: the "
        "records have none)."
    )
    other: bool = strawberry.field(description="The groups past the limit, merged.")
    values: list[float | None] = strawberry.field(
        description="Each measure over the whole range, in the order asked (null: no values)."
    )
    points: list[BreakdownPoint] = strawberry.field(
        description="Every bucket of the range, when an interval is asked."
    )


@strawberry.type(description="The answer to a question: its groups, in order.")
class Breakdown:
    measures: list[str]
    dimensions: list[str]
    groups: list[BreakdownGroup]

    @classmethod
    def from_domain(cls, answer: DomainBreakdown) -> Breakdown:
        return cls(
            measures=answer.measures,
            dimensions=answer.dimensions,
            groups=[
                BreakdownGroup(
                    key=list(g.key),
                    other=g.other,
                    values=list(g.values),
                    points=[BreakdownPoint(start=b, values=list(v)) for b, v in g.points],
                )
                for g in answer.groups
            ],
        )
