"""The filter of a funnel's or a retention's step: a comparison of one field of an event, or
all / any / not of other filters. (The schema had no condition input when journeys came; when
one is shared by every query, steps should take it instead.)"""

from __future__ import annotations

import enum
from typing import Any

import strawberry
from strawberry.scalars import JSON

from gql_analytics.domain.query.conditions import AllOf, AnyOf, Compare, Condition, Not, Op
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.steps import Step
from gql_analytics.errors import InvalidInput


@strawberry.enum(description="What a step filter compares of an event.")
class StepFilterField(enum.Enum):
    PROPERTY = "PROPERTY"  # the property named by ``key``
    SOURCE = "SOURCE"
    USER = "USER"


@strawberry.enum(
    description="How a step filter compares: EQ/NE/IN like with like (a string equals only a "
    "string), GT/GTE/LT/LTE numbers only, EXISTS whether the field is there (value: true/false)."
)
class StepFilterOp(enum.Enum):
    EQ = "EQ"
    NE = "NE"
    IN = "IN"
    EXISTS = "EXISTS"
    GT = "GT"
    GTE = "GTE"
    LT = "LT"
    LTE = "LTE"


@strawberry.input(
    description="A comparison (field, key, op, value), or exactly one of allOf, anyOf, not."
)
class StepFilter:
    field: StepFilterField | None = StepFilterField.PROPERTY
    key: str | None = strawberry.field(default=None, description="The property's key.")
    op: StepFilterOp | None = StepFilterOp.EQ
    value: JSON | None = None
    all_of: list[StepFilter] | None = None
    any_of: list[StepFilter] | None = None
    not_: StepFilter | None = strawberry.field(name="not", default=None)

    def to_domain(self, where: str) -> Condition:
        combined = [given for given in (self.all_of, self.any_of, self.not_) if given is not None]
        if combined and (len(combined) > 1 or self.key is not None or self.value is not None):
            raise InvalidInput(
                f"{where}: give a comparison (field, key, op, value) or one of allOf, anyOf, not",
                field=where,
            )
        if self.all_of is not None or self.any_of is not None:
            parts = self.all_of if self.all_of is not None else self.any_of
            assert parts is not None
            if not parts:
                raise InvalidInput(
                    f"{where}: allOf and anyOf take at least one filter", field=where
                )
            inner = tuple(part.to_domain(where) for part in parts)
            return AllOf(inner) if self.all_of is not None else AnyOf(inner)
        if self.not_ is not None:
            return Not(self.not_.to_domain(where))
        op = Op[(self.op or StepFilterOp.EQ).value]
        field = Field(Attribute[(self.field or StepFilterField.PROPERTY).value], self.key)
        return Compare(field, op, _value(op, self.value))


def _value(op: Op, value: Any) -> Any:
    if op is Op.EXISTS and value is None:
        return True
    if op is Op.IN and isinstance(value, list):
        return tuple(value)
    return value


@strawberry.input(description="A step: events of one name, narrowed by a filter if given.")
class JourneyStep:
    name: str
    where: StepFilter | None = None

    def to_domain(self, field: str) -> Step:
        where = None if self.where is None else self.where.to_domain(f"{field}.where")
        return Step(self.name, where)
