"""Where a question is read from: the rollups, when they hold what it asks and reading them
costs less than scanning the raw records (or the raw records are gone), else the raw records.

Rollups are kept per series: a name and the record's values of the tenant's declared dimensions
(``domain.dimensions``). A question can be read from them when every dimension and condition is
one a series answers alone (the name, a declared key held since before the range, not past its
``max_values``) and every measure is one a rollup keeps (events: counts; metrics: count, sum,
avg, min, max, stddev and percentiles of the value). Both plans give the same answer: the
contract suite (``tests/contract/roles/question_reader.py``) holds them to it on every store.
See ``docs/planner.md``.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.dimensions import Dimensions
from gql_analytics.domain.query.conditions import Compare, walk
from gql_analytics.domain.query.conditions import Op as CompareOp
from gql_analytics.domain.query.fields import Attribute, Field, text_of
from gql_analytics.domain.query.measures import QUANTILES, Op
from gql_analytics.domain.query.question import Cell, Key, Question, rank
from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.stats import BucketSummary
from gql_analytics.domain.timerange import Interval
from gql_analytics.ports import RollupReader, SeriesInfo

RAW = "raw"
ROLLUPS = "rollups"
_OTHER = "\x00other"
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_KEYED = {EVENT: Attribute.PROPERTY, METRIC: Attribute.TAG}
_TEXT_OPS = {CompareOp.EQ, CompareOp.NE, CompareOp.IN}
_ROLLED_UP = {
    EVENT: {Op.COUNT},
    METRIC: {Op.COUNT, Op.SUM, Op.AVG, Op.MIN, Op.MAX, Op.STDDEV, *QUANTILES},
}


@dataclass(frozen=True, slots=True)
class Plan:
    source: str  # ROLLUPS or RAW
    rollup_rows: int | None  # the rows the rollups would be read in, when they can answer
    raw_rows: int  # at most so many raw records are scanned (every record of the series asked)
    overflowed: tuple[str, ...] = ()  # keys read from rollups where values past max are OTHER

    def report(self) -> dict[str, object]:
        report: dict[str, object] = {
            "source": self.source,
            "rollupRows": self.rollup_rows,
            "rawRows": self.raw_rows,
        }
        if self.overflowed:
            report["overflowed"] = list(self.overflowed)
        return report


def rollups_answer(question: Question, dimensions: Dimensions, *, overflowed: bool = False) -> bool:
    """Whether the rollups hold what ``question`` asks: every dimension and condition is the
    name or a key declared since before the range starts (a property compared as a string), and
    every measure is one a rollup keeps. A key past its ``max_values`` holds only some of its
    values: it answers only when ``overflowed`` (the rest then counts as ``OTHER``)."""

    def held(field: Field) -> bool:
        if field.attribute is Attribute.NAME:
            return True
        if field.attribute is not _KEYED[question.kind] or field.key is None:
            return False
        declared = dimensions.of(question.tenant, question.kind, field.key)
        return (
            declared is not None
            and declared.since <= question.time_range.start
            and (overflowed or not declared.overflowed)
        )

    if not all(held(d) for d in question.dimensions):
        return False
    if question.where is not None and not all(
        held(part.field) and _as_text(part)
        for part in walk(question.where)
        if isinstance(part, Compare)
    ):
        return False
    return all(m.op in _ROLLED_UP[question.kind] for m in question.measures)


def _as_text(compare: Compare) -> bool:
    """Whether a comparison holds of a series' values (text) as it holds of its records: a
    property's value was a number or a boolean before it became a series' text."""
    if compare.field.attribute is not Attribute.PROPERTY or compare.op is CompareOp.EXISTS:
        return True
    values = compare.value if compare.op is CompareOp.IN else (compare.value,)
    return compare.op in _TEXT_OPS and all(isinstance(v, str) and not _json_text(v) for v in values)


def _json_text(text: str) -> bool:
    """Whether ``text`` is what a series holds for a value that was not a string (a number,
    a boolean, an object, a list: ``text_of``), so that a series holding it may hold them too."""
    try:
        return not isinstance(json.loads(text), str)
    except ValueError:
        return False


def choose(
    question: Question,
    series: Sequence[SeriesInfo],
    dimensions: Dimensions,
    raw_from: datetime | None = None,
) -> Plan:
    """The cheaper way to read ``question``, by the rows each would read: a rollup row per
    series per piece of the range (hours inside, minutes at the edges), or every record of the
    series asked. Raw records are kept from ``raw_from`` (None: all): before, the rollups of an
    overflowed key answer, its values past the limit as ``OTHER`` (the plan names the keys)."""
    named = [s for s in series if _named(question, s)]
    raw_rows = sum(s.count for s in named)
    if not rollups_answer(question, dimensions):
        purged = raw_from is not None and question.time_range.start < raw_from
        if not purged or not rollups_answer(question, dimensions, overflowed=True):
            return Plan(RAW, None, raw_rows)
        keys = {f.key for f in _fields(question) if f.key is not None}
        over = tuple(sorted(d.key for d in dimensions.declared if d.overflowed and d.key in keys))
        return Plan(ROLLUPS, _rollup_rows(question, named), raw_rows, over)
    rollup_rows = _rollup_rows(question, named)
    purged = raw_from is not None and question.time_range.start < raw_from
    cheaper = rollup_rows < raw_rows
    return Plan(ROLLUPS if purged or cheaper else RAW, rollup_rows, raw_rows)


def _rollup_rows(question: Question, named: Sequence[SeriesInfo]) -> int:
    calendar = question.calendar or Calendar(Interval.HOUR)
    pieces = sum(
        (piece.end - piece.start) // piece.level for piece in calendar.segments(question.time_range)
    )
    return len([s for s in named if _selected(question, s)]) * max(pieces, 1)


def _fields(question: Question) -> list[Field]:
    """Every field the question groups or filters by."""
    compared = [] if question.where is None else walk(question.where)
    return [*question.dimensions, *(p.field for p in compared if isinstance(p, Compare))]


async def from_rollups(
    reader: RollupReader, question: Question, series: Sequence[SeriesInfo]
) -> list[Cell]:
    """``question``'s cells read from the rollups of ``series`` (as ``QuestionReader.answer``
    gives them from raw records)."""
    keys = {s.id: _key(question, s) for s in series if _selected(question, s)}
    quantiles = sorted({q for m in question.measures if (q := QUANTILES.get(m.op)) is not None})
    labels = {series_id: _label(key) for series_id, key in keys.items()}
    stats = await reader.rollup_stats(
        labels, question.time_range, question.calendar, quantiles=quantiles
    )
    ordered = rank(
        [
            Cell(_unlabel(label), None, _values(question, s))
            for (label, b), s in stats.items()
            if b is None and s.count
        ],
        question.order,
    )
    kept = ordered[: question.limit]
    kept_labels = {_label(c.key) for c in kept}
    cells = list(kept)
    rest = len(ordered) > question.limit and question.other
    if rest:
        regrouped = {i: (label if label in kept_labels else _OTHER) for i, label in labels.items()}
        stats = await reader.rollup_stats(
            regrouped, question.time_range, question.calendar, quantiles=quantiles
        )
        blank: Key = tuple(None for _ in question.dimensions)
        cells.append(Cell(blank, None, _values(question, stats[(_OTHER, None)]), other=True))
    if question.calendar is None:
        return cells
    position = {c.key: i for i, c in enumerate(kept)}
    bucketed = []
    for (label, bucket), summary in stats.items():
        if bucket is None or not summary.count:
            continue
        if label == _OTHER:
            bucketed.append(
                (
                    len(kept),
                    bucket,
                    Cell(
                        tuple(None for _ in question.dimensions),
                        bucket,
                        _values(question, summary),
                        other=True,
                    ),
                )
            )
        elif (key := _unlabel(label)) in position:
            bucketed.append((position[key], bucket, Cell(key, bucket, _values(question, summary))))
    return cells + [cell for _, _, cell in sorted(bucketed, key=lambda t: (t[0], t[1]))]


def _named(question: Question, series: SeriesInfo) -> bool:
    return series.key.kind == question.kind and (
        question.names is None or series.key.name in question.names
    )


def _selected(question: Question, series: SeriesInfo) -> bool:
    """Whether the records of ``series`` are the question's (all of them or none, when the
    rollups answer it: every record of a series has its name and declared values)."""
    if not _named(question, series):
        return False
    return question.where is None or question.where.holds(_specimen(series))


def _specimen(series: SeriesInfo) -> Record:
    """A record standing for every record of the series, for the conditions on it."""
    key = series.key
    if key.kind == EVENT:
        return Event("", key.name, key.tenant, _EPOCH, _EPOCH, properties=dict(key.tags))
    return MetricPoint("", key.name, 0.0, key.tenant, _EPOCH, _EPOCH, dict(key.tags))


def _key(question: Question, series: SeriesInfo) -> Key:
    specimen = _specimen(series)
    return tuple(text_of(d.of(specimen)) for d in question.dimensions)


def _label(key: Key) -> str:
    return json.dumps(key)


def _unlabel(label: str) -> Key:
    return tuple(json.loads(label))


def _values(question: Question, summary: BucketSummary) -> tuple[float | None, ...]:
    values: list[float | None] = []
    for measure in question.measures:
        op = measure.op
        if op is Op.COUNT:
            values.append(float(summary.count))
        elif op is Op.SUM:
            values.append(summary.total if summary.count else None)
        elif op is Op.AVG:
            values.append(summary.mean)
        elif op is Op.MIN:
            values.append(summary.minimum)
        elif op is Op.MAX:
            values.append(summary.maximum)
        elif op is Op.STDDEV:
            values.append(summary.stddev)
        else:
            (value,) = summary.percentiles([QUANTILES[op]])
            values.append(value)
    return tuple(values)
