"""A question answered from records in memory: for a store that cannot run it in its own query
language. The contract suite holds every store to these answers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from gql_analytics.domain.query.fields import number_of, text_of
from gql_analytics.domain.query.measures import Op, of_values
from gql_analytics.domain.query.question import Cell, Key, Question, rank
from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.rollup import EVENT


def answer(question: Question, records: Iterable[Record]) -> list[Cell]:
    """The question's cells: the kept groups' (and ``other``'s) whole-range cells in order, then
    their bucket cells (buckets with no record are absent)."""
    groups: defaultdict[Key, list[Record]] = defaultdict(list)
    for record in records:
        if _wanted(question, record):
            groups[tuple(text_of(d.of(record)) for d in question.dimensions)].append(record)
    ordered = rank(
        [Cell(key, None, _measure(question, members)) for key, members in groups.items()],
        question.order,
    )
    kept, rest = ordered[: question.limit], ordered[question.limit :]
    cells = list(kept)
    merged_rest = [record for cell in rest for record in groups[cell.key]]
    blank: Key = tuple(None for _ in question.dimensions)
    if question.other and merged_rest:
        cells.append(Cell(blank, None, _measure(question, merged_rest), other=True))
    if question.calendar is None:
        return cells
    calendar = question.calendar
    by_bucket = [(cell.key, cell.other, groups[cell.key]) for cell in kept]
    if question.other and merged_rest:
        by_bucket.append((blank, True, merged_rest))
    for key, other, members in by_bucket:
        buckets: defaultdict[datetime, list[Record]] = defaultdict(list)
        for record in members:
            buckets[calendar.floor(record.occurred_at)].append(record)
        cells.extend(
            Cell(key, start, _measure(question, in_bucket), other)
            for start, in_bucket in sorted(buckets.items())
        )
    return cells


def _wanted(question: Question, record: Record) -> bool:
    window = question.time_range
    return (
        isinstance(record, Event) == (question.kind == EVENT)
        and record.tenant == question.tenant
        and window.start <= record.occurred_at < window.end
        and (question.names is None or record.name in question.names)
        and (question.where is None or question.where.holds(record))
    )


def _measure(question: Question, records: list[Record]) -> tuple[float | None, ...]:
    values: list[float | None] = []
    for measure in question.measures:
        if measure.op is Op.COUNT:
            values.append(float(len(records)))
        elif measure.op is Op.DISTINCT_USERS:
            users = {r.user_id for r in records if isinstance(r, Event) and r.user_id is not None}
            values.append(float(len(users)))
        else:
            assert measure.field is not None
            numbers = [n for r in records if (n := number_of(measure.field.of(r))) is not None]
            values.append(of_values(measure.op, numbers))
    return tuple(values)
