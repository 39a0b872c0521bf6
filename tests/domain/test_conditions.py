"""Conditions: what each comparison holds of, and the bound on how much one may ask."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gql_analytics.domain.query.conditions import MAX_PARTS, AnyOf, Compare, Not, Op, check
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.records import Event
from gql_analytics.domain.rollup import EVENT
from gql_analytics.errors import InvalidInput

T0 = datetime(2026, 11, 20, tzinfo=UTC)
PLAN = Field(Attribute.PROPERTY, "plan")


def bought(**properties: object) -> Event:
    return Event("1", "buy", "default", T0, T0, properties=properties)


def test_equality_compares_like_with_like() -> None:
    assert Compare(PLAN, Op.EQ, "5").holds(bought(plan="5"))
    assert not Compare(PLAN, Op.EQ, "5").holds(bought(plan=5))
    assert Compare(PLAN, Op.EQ, 5).holds(bought(plan=5.0))
    assert not Compare(PLAN, Op.EQ, True).holds(bought(plan=1))


def test_a_missing_attribute_matches_only_ne_and_not_exists() -> None:
    nothing = bought()
    value = {Op.IN: ("3",), Op.EXISTS: True}
    held = [op for op in Op if Compare(PLAN, op, value.get(op, 3)).holds(nothing)]
    assert held == [Op.NE]
    assert Compare(PLAN, Op.EXISTS, False).holds(nothing)
    assert Not(Compare(PLAN, Op.GT, 3)).holds(nothing)


def test_each_value_of_an_in_counts_toward_the_bound() -> None:
    check(Compare(PLAN, Op.IN, tuple(str(i) for i in range(MAX_PARTS))), EVENT)
    too_many = AnyOf(
        (Compare(PLAN, Op.IN, tuple(str(i) for i in range(MAX_PARTS))), Compare(PLAN, Op.EQ, "x"))
    )
    with pytest.raises(InvalidInput, match="at most 100 comparisons"):
        check(too_many, EVENT)
