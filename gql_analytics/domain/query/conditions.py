"""Filters on the records a question aggregates: comparisons of a field, combined with
all / any / not. A missing field matches no comparison but ``exists: false``."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

from gql_analytics.domain.query.fields import Field, number_of
from gql_analytics.domain.records import Record
from gql_analytics.errors import InvalidInput

MAX_PARTS = 100


class Op(enum.Enum):
    EQ = "eq"
    NE = "ne"
    IN = "in"
    EXISTS = "exists"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


NUMERIC = frozenset({Op.GT, Op.GTE, Op.LT, Op.LTE})


@dataclass(frozen=True, slots=True)
class Compare:
    """``field op value``. EQ/NE/IN compare like with like: a string equals only that string, a
    number only an equal number, a boolean only itself. NE holds where EQ does not, a missing
    field included. Numeric ops hold only for numbers."""

    field: Field
    op: Op
    value: Any

    def holds(self, record: Record) -> bool:
        found = self.field.of(record)
        op = self.op
        if op is Op.EXISTS:
            return (found is not None) == bool(self.value)
        if op is Op.EQ:
            return same(found, self.value)
        if op is Op.NE:
            return not same(found, self.value)
        if op is Op.IN:
            return any(same(found, wanted) for wanted in self.value)
        number = number_of(found)
        if number is None:
            return False
        limit = float(self.value)
        if op is Op.GT:
            return number > limit
        if op is Op.GTE:
            return number >= limit
        if op is Op.LT:
            return number < limit
        return number <= limit


@dataclass(frozen=True, slots=True)
class AllOf:
    parts: tuple[Condition, ...]

    def holds(self, record: Record) -> bool:
        return all(part.holds(record) for part in self.parts)


@dataclass(frozen=True, slots=True)
class AnyOf:
    parts: tuple[Condition, ...]

    def holds(self, record: Record) -> bool:
        return any(part.holds(record) for part in self.parts)


@dataclass(frozen=True, slots=True)
class Not:
    part: Condition

    def holds(self, record: Record) -> bool:
        return not self.part.holds(record)


Condition: TypeAlias = Compare | AllOf | AnyOf | Not


def same(found: Any, wanted: Any) -> bool:
    if found is None or wanted is None:
        return False
    if isinstance(wanted, bool) or isinstance(found, bool):
        return found is wanted
    if isinstance(wanted, str) or isinstance(found, str):
        return bool(found == wanted)
    return number_of(found) == number_of(wanted)


def check(condition: Condition, kind: str, where: str = "where") -> None:
    """Refuse a condition on fields the records of ``kind`` lack, or with values an op cannot
    compare; bounded in size, since every part costs a predicate per record."""
    parts = list(walk(condition))
    # Each value of an IN is a comparison per record too.
    size = sum(
        len(p.value)
        if isinstance(p, Compare) and p.op is Op.IN and isinstance(p.value, Sequence)
        else 1
        for p in parts
    )
    if size > MAX_PARTS:
        raise InvalidInput(
            f"{where}: at most {MAX_PARTS} comparisons (each value of an in counts), got {size}",
            field=where,
        )
    for part in parts:
        if not isinstance(part, Compare):
            continue
        part.field.check(kind, where)
        if part.op in NUMERIC and number_of(part.value) is None:
            raise InvalidInput(f"{where}: {part.op.value} compares with a number", field=where)
        if part.op is Op.IN and (
            isinstance(part.value, str) or not isinstance(part.value, Sequence)
        ):
            raise InvalidInput(f"{where}: in takes a list", field=where)
        if part.op in (Op.EQ, Op.NE) and not _scalar(part.value):
            raise InvalidInput(
                f"{where}: {part.op.value} compares with a string, number or boolean", field=where
            )
        if part.op is Op.IN and not all(_scalar(v) for v in part.value):
            raise InvalidInput(f"{where}: in takes strings, numbers or booleans", field=where)


def walk(condition: Condition) -> list[Condition]:
    """Every part of a condition, itself first."""
    found: list[Condition] = [condition]
    if isinstance(condition, AllOf | AnyOf):
        for part in condition.parts:
            found.extend(walk(part))
    elif isinstance(condition, Not):
        found.extend(walk(condition.part))
    return found


def _scalar(value: Any) -> bool:
    return isinstance(value, str | bool) or number_of(value) is not None
