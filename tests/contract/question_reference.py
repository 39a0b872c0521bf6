"""A brute-force answer to a question, written apart from the gateway's own code (and as plainly
as possible) so that the contract suite can hold every store's answers to it."""

from __future__ import annotations

import json
import math
from datetime import datetime, timedelta
from typing import Any

from gql_analytics.domain import sketch
from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.conditions import AllOf, AnyOf, Compare, Condition, Not, Op
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.measures import Op as MeasureOp
from gql_analytics.domain.query.question import Cell, Question
from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import Interval


def value(record: Record, field: Field) -> Any:
    if field.attribute is Attribute.NAME:
        return record.name
    if isinstance(record, Event):
        return {
            Attribute.SOURCE: record.source,
            Attribute.USER: record.user_id,
            Attribute.PROPERTY: record.properties.get(field.key or ""),
        }.get(field.attribute)
    assert isinstance(record, MetricPoint)
    if field.attribute is Attribute.TAG:
        return record.tags.get(field.key or "")
    return record.value if field.attribute is Attribute.VALUE else None


def is_number(x: Any) -> bool:
    return type(x) in (int, float)


def equal(x: Any, y: Any) -> bool:
    if x is None:
        return False
    if type(x) is bool or type(y) is bool:
        return type(x) is bool and type(y) is bool and x == y
    if isinstance(x, str) or isinstance(y, str):
        return isinstance(x, str) and isinstance(y, str) and x == y
    return float(x) == float(y)


def holds(condition: Condition, record: Record) -> bool:
    if isinstance(condition, AllOf):
        return all(holds(c, record) for c in condition.parts)
    if isinstance(condition, AnyOf):
        return any(holds(c, record) for c in condition.parts)
    if isinstance(condition, Not):
        return not holds(condition.part, record)
    assert isinstance(condition, Compare)
    x = value(record, condition.field)
    if condition.op is Op.EXISTS:
        return (x is not None) is condition.value
    if condition.op is Op.EQ:
        return equal(x, condition.value)
    if condition.op is Op.NE:
        return not equal(x, condition.value)
    if condition.op is Op.IN:
        return any(equal(x, y) for y in condition.value)
    if not is_number(x):
        return False
    return bool(
        {
            Op.GT: x > condition.value,
            Op.GTE: x >= condition.value,
            Op.LT: x < condition.value,
            Op.LTE: x <= condition.value,
        }[condition.op]
    )


def key_text(x: Any) -> str | None:
    if x is None or isinstance(x, str):
        return x
    return json.dumps(x)


def bucket(moment: datetime, calendar: Calendar) -> datetime:
    """UTC buckets, the long way round (the generated questions ask UTC; the zones are
    ``Calendar``'s own tests' subject)."""
    assert calendar.zone.key == "UTC"
    day = moment.replace(hour=0, minute=0, second=0, microsecond=0)
    if calendar.interval is Interval.MONTH:
        return day.replace(day=1)
    if calendar.interval is Interval.WEEK:
        return day - timedelta(days=day.weekday())
    if calendar.interval is Interval.DAY:
        return day
    minutes = {Interval.HOUR: 60, Interval.FIFTEEN_MINUTES: 15, Interval.MINUTE: 1}[
        calendar.interval
    ]
    return day + timedelta(minutes=(moment - day) // timedelta(minutes=1) // minutes * minutes)


def measures(question: Question, records: list[Record]) -> tuple[float | None, ...]:
    out: list[float | None] = []
    for measure in question.measures:
        if measure.op is MeasureOp.COUNT:
            out.append(float(len(records)))
            continue
        if measure.op is MeasureOp.DISTINCT_USERS:
            out.append(
                float(len({r.user_id for r in records if isinstance(r, Event) and r.user_id}))
            )
            continue
        assert measure.field is not None
        xs = sorted(float(x) for r in records if is_number(x := value(r, measure.field)))
        if not xs:
            out.append(None)
            continue
        n = len(xs)
        mean = sum(xs) / n
        if measure.op is MeasureOp.SUM:
            out.append(sum(xs))
        elif measure.op is MeasureOp.AVG:
            out.append(mean)
        elif measure.op is MeasureOp.MIN:
            out.append(xs[0])
        elif measure.op is MeasureOp.MAX:
            out.append(xs[-1])
        elif measure.op is MeasureOp.STDDEV:
            out.append(math.sqrt(sum((x - mean) ** 2 for x in xs) / n))
        else:
            q = {"p50": 0.5, "p90": 0.9, "p95": 0.95, "p99": 0.99}[measure.op.value]
            exact = xs[max(math.ceil(q * n), 1) - 1]  # the nearest rank
            # Reported as its histogram bin's value (within 1 %), clamped to the data's range.
            out.append(min(max(sketch.representative(sketch.bin_of(exact)), xs[0]), xs[-1]))
    return tuple(out)


def reference(question: Question, records: list[Record]) -> list[Cell]:
    chosen = [
        r
        for r in records
        if (isinstance(r, Event) == (question.kind == EVENT))
        and r.tenant == question.tenant
        and question.time_range.start <= r.occurred_at < question.time_range.end
        and (question.names is None or r.name in question.names)
        and (question.where is None or holds(question.where, r))
    ]
    groups: dict[tuple[str | None, ...], list[Record]] = {}
    for r in chosen:
        groups.setdefault(tuple(key_text(value(r, d)) for d in question.dimensions), []).append(r)
    totals = {key: measures(question, members) for key, members in groups.items()}

    def by_key(key: tuple[str | None, ...]) -> list[tuple[bool, str]]:
        return [(part is None, part or "") for part in key]

    order = question.order
    ordered = sorted(totals, key=by_key)
    if order.measure is not None:
        index = order.measure
        present = [k for k in ordered if totals[k][index] is not None]
        absent = [k for k in ordered if totals[k][index] is None]
        present.sort(key=lambda k: totals[k][index] or 0.0, reverse=order.descending)  # stable
        ordered = present + absent
    else:
        d = order.dimension
        assert d is not None
        present = [k for k in ordered if k[d] is not None]
        absent = [k for k in ordered if k[d] is None]
        present.sort(key=lambda k: k[d] or "", reverse=order.descending)
        ordered = present + absent
    kept, rest = ordered[: question.limit], ordered[question.limit :]
    blank = tuple(None for _ in question.dimensions)
    cells = [Cell(k, None, totals[k]) for k in kept]
    rest_records = [r for k in rest for r in groups[k]]
    with_other = question.other and bool(rest_records)
    if with_other:
        cells.append(Cell(blank, None, measures(question, rest_records), other=True))
    if question.calendar is not None:
        calendar = question.calendar
        members = [(k, False, groups[k]) for k in kept]
        if with_other:
            members.append((blank, True, rest_records))
        for key, other, group in members:
            starts = sorted({bucket(r.occurred_at, calendar) for r in group})
            for start in starts:
                inside = [r for r in group if bucket(r.occurred_at, calendar) == start]
                cells.append(Cell(key, start, measures(question, inside), other))
    return cells
