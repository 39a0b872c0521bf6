"""A ``Question`` as DuckDB SQL over the raw tables: one scan that groups by the dimensions and
by bucket at once (GROUPING SETS), ranks the groups by the order measure, and keeps the first
``limit``; ``other`` is a second statement over the rows of the groups past it."""

from __future__ import annotations

from dataclasses import dataclass, field

from gql_analytics.adapters.duckdb.calendar_sql import bucket_sql
from gql_analytics.adapters.duckdb.values import Params, naive
from gql_analytics.domain import sketch
from gql_analytics.domain.query.conditions import AllOf, AnyOf, Compare, Condition, Not, Op
from gql_analytics.domain.query.fields import Attribute, Field, number_of
from gql_analytics.domain.query.measures import Measure
from gql_analytics.domain.query.measures import Op as MeasureOp
from gql_analytics.domain.query.question import Question
from gql_analytics.domain.rollup import EVENT

_COLUMNS = {Attribute.NAME: "name", Attribute.SOURCE: "source", Attribute.USER: "user_id"}
_NUMBER_TYPES = "('UBIGINT', 'BIGINT', 'DOUBLE')"


def literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def json_path(key: str) -> str:
    return literal('$."' + key.replace("\\", "\\\\").replace('"', '\\"') + '"')


def _document(attribute: Attribute) -> str:
    return "properties" if attribute is Attribute.PROPERTY else "tags"


def text_sql(f: Field) -> str:
    """The field as a group key (see ``fields.text_of``)."""
    if f.attribute in _COLUMNS:
        return _COLUMNS[f.attribute]
    assert f.key is not None
    return key_text_sql(_document(f.attribute), f.key)


def key_text_sql(document: str, key: str) -> str:
    """A JSON document's value at ``key`` as ``fields.text_of`` writes it: a string as it is, a
    float as Python's ``repr`` (which DuckDB's DOUBLE to VARCHAR matches, where its JSON writer
    does not: ``1e+16`` against ``10000000000000000.0``), anything else as its JSON text."""
    path = json_path(key)
    return (
        f"CASE json_type({document}, {path}) WHEN 'DOUBLE' "
        f"THEN json_extract({document}, {path})::DOUBLE::VARCHAR "
        f"ELSE json_extract_string({document}, {path}) END"
    )


def number_sql(f: Field) -> str:
    """The field as a number, NULL unless it is a JSON number (see ``fields.number_of``)."""
    if f.attribute is Attribute.VALUE:
        return "value"
    if f.attribute in _COLUMNS or f.attribute is Attribute.TAG:
        return "NULL::DOUBLE"  # strings only
    assert f.key is not None
    path = json_path(f.key)
    return (
        f"CASE WHEN json_type(properties, {path}) IN {_NUMBER_TYPES} "
        f"THEN json_extract(properties, {path})::DOUBLE END"
    )


def _equals(f: Field, wanted: object, params: Params) -> str:
    """``f`` equals ``wanted``, like with like (``conditions.same``); never NULL."""
    if f.attribute is Attribute.VALUE:
        number = number_of(wanted)
        if number is None:
            return "false"
        params.append(number)
        return "value = ?"
    if f.attribute in _COLUMNS or f.attribute is Attribute.TAG:
        if not isinstance(wanted, str):
            return "false"
        params.append(wanted)
        return f"coalesce({text_sql(f)} = ?, false)"
    assert f.key is not None
    path = json_path(f.key)
    kind = f"json_type(properties, {path})"
    if isinstance(wanted, bool):
        # Compared as text, not cast: DuckDB may evaluate both sides of an AND on every row
        # (in a projection it does), and casting a string to BOOLEAN fails.
        text = str(wanted).lower()
        return f"coalesce({kind} = 'BOOLEAN' AND json_extract_string(properties, {path}) = '{text}', false)"
    if isinstance(wanted, str):
        params.append(wanted)
        return (
            f"coalesce({kind} = 'VARCHAR' AND json_extract_string(properties, {path}) = ?, false)"
        )
    params.append(number_of(wanted))
    return f"coalesce({number_sql(f)} = ?, false)"


def _exists(f: Field) -> str:
    if f.attribute is Attribute.VALUE:
        return "true"
    if f.attribute in _COLUMNS:
        return f"{_COLUMNS[f.attribute]} IS NOT NULL"
    assert f.key is not None
    return (
        f"coalesce(json_type({_document(f.attribute)}, {json_path(f.key)}) NOT IN ('NULL'), false)"
    )


_COMPARISONS = {Op.GT: ">", Op.GTE: ">=", Op.LT: "<", Op.LTE: "<="}


def condition_sql(condition: Condition, params: Params) -> str:
    """A condition as a predicate that is never NULL (so NOT means not)."""
    if isinstance(condition, AllOf):
        return "(" + " AND ".join(condition_sql(p, params) for p in condition.parts) + ")"
    if isinstance(condition, AnyOf):
        return "(" + " OR ".join(condition_sql(p, params) for p in condition.parts) + ")"
    if isinstance(condition, Not):
        return f"(NOT {condition_sql(condition.part, params)})"
    return _compare_sql(condition, params)


def _compare_sql(compare: Compare, params: Params) -> str:
    f, op = compare.field, compare.op
    if op is Op.EXISTS:
        found = _exists(f)
        return found if compare.value else f"(NOT {found})"
    if op is Op.EQ:
        return _equals(f, compare.value, params)
    if op is Op.NE:
        return f"(NOT {_equals(f, compare.value, params)})"
    if op is Op.IN:
        if not compare.value:
            return "false"
        return "(" + " OR ".join(_equals(f, v, params) for v in compare.value) + ")"
    params.append(float(compare.value))
    return f"coalesce({number_sql(f)} {_COMPARISONS[op]} ?, false)"


def _bin_sql(value: str) -> str:
    """``sketch.bin_of`` in SQL, as the staged Kafka path computes it."""
    return (
        f"CASE WHEN abs({value}) < {sketch.MIN_MAGNITUDE!r} THEN 0 "
        f"ELSE sign({value})::INTEGER * ({sketch.OFFSET} + least(ceil(ln(abs({value})) / "
        f"{sketch.LOG_GAMMA!r}), {sketch.MAX_KEY})::INTEGER) END"
    )


def _representative_sql(bin_: str) -> str:
    """``sketch.representative`` in SQL."""
    magnitude = f"2 * pow({sketch.GAMMA!r}, abs({bin_}) - {sketch.OFFSET}) / ({sketch.GAMMA!r} + 1)"
    return f"CASE WHEN {bin_} = 0 THEN 0.0 ELSE sign({bin_}) * {magnitude} END"


def measure_sql(measure: Measure, values: dict[Field, str]) -> str:
    op = measure.op
    if op is MeasureOp.COUNT:
        return "count(*)::DOUBLE"
    if op is MeasureOp.DISTINCT_USERS:
        return "count(DISTINCT user_id)::DOUBLE"
    assert measure.field is not None
    v = values[measure.field]
    simple = {
        MeasureOp.SUM: "sum",
        MeasureOp.AVG: "avg",
        MeasureOp.MIN: "min",
        MeasureOp.MAX: "max",
        MeasureOp.STDDEV: "stddev_pop",
    }
    if op in simple:
        return f"{simple[op]}({v})"
    chosen = f"quantile_disc({_bin_sql(v)}, {op.quantile!r})"
    return f"least(greatest({_representative_sql(chosen)}, min({v})), max({v}))"


@dataclass
class Statements:
    """The SQL of a question: ``cells`` answers it for the kept groups; ``other`` (when asked)
    for the groups past the limit, merged."""

    cells: str
    params: Params
    other: str | None = None
    other_params: Params = field(default_factory=list)


def compile_question(question: Question) -> Statements:
    table = "events" if question.kind == EVENT else "metric_points"
    where_params: Params = [
        question.tenant,
        naive(question.time_range.start),
        naive(question.time_range.end),
    ]
    where = ["tenant = ?", "occurred_at >= ?", "occurred_at < ?"]
    if question.names is not None:
        where.append("name IN (SELECT unnest(?::VARCHAR[]))")
        where_params.append(list(question.names))
    if question.where is not None:
        where.append(condition_sql(question.where, where_params))
    numeric = list(dict.fromkeys(m.field for m in question.measures if m.field is not None))
    values = {f: f"v{i}" for i, f in enumerate(numeric)}
    dims = [f"d{i}" for i in range(len(question.dimensions))]
    selected = [f"{text_sql(f)} AS {d}" for f, d in zip(question.dimensions, dims, strict=True)]
    selected += [f"{number_sql(f)} AS {values[f]}" for f in numeric]
    if question.calendar is not None:
        bucket_of = bucket_sql("occurred_at", question.calendar, question.time_range)
        selected.append(f"{bucket_of} AS b")
    if question.kind == EVENT:
        selected.append("user_id")
    base = f"SELECT {', '.join(selected) or '1'} FROM {table} WHERE {' AND '.join(where)}"
    measures = [measure_sql(m, values) for m in question.measures]
    keys = ", ".join(dims)
    sets = f"({keys})" + (f", ({keys}{', ' if dims else ''}b)" if question.calendar else "")
    bucket = "b" if question.calendar else "NULL::TIMESTAMP AS b"
    order = question.order
    if order.measure is not None:
        first = f"m{order.measure} {'DESC' if order.descending else 'ASC'} NULLS LAST"
    else:
        first = f"d{order.dimension} {'DESC' if order.descending else 'ASC'} NULLS LAST"
    ranking = ", ".join([first, *(f"{d} ASC NULLS LAST" for d in dims)])
    measured = ", ".join(f"{m} AS m{i}" for i, m in enumerate(measures))
    if not dims:  # one group: nothing to rank
        cells = f"""
            SELECT 1, 1, {bucket}, {measured} FROM ({base})
            GROUP BY GROUPING SETS ({sets}) HAVING count(*) > 0
            ORDER BY b NULLS FIRST
        """
        return Statements(cells, where_params)
    same_group = " AND ".join(f"c.{d} IS NOT DISTINCT FROM r.{d}" for d in dims)
    bucketed = "GROUPING(b) = 0" if question.calendar else "false"
    outputs = ", ".join(f"c.m{i}" for i in range(len(measures)))
    key_outputs = "".join(f", c.{d}" for d in dims)
    cells = f"""
        WITH base AS ({base}),
        cells AS (
            SELECT {keys}, {bucket}, {bucketed} AS bucketed, {measured}
            FROM base GROUP BY GROUPING SETS ({sets}) HAVING count(*) > 0
        ),
        ranked AS (
            SELECT {keys}, row_number() OVER (ORDER BY {ranking}) AS position,
                count(*) OVER () AS groups
            FROM cells WHERE NOT bucketed
        )
        SELECT r.position, r.groups, c.b{key_outputs}, {outputs}
        FROM cells c JOIN ranked r ON {same_group}
        WHERE r.position <= {question.limit}
        ORDER BY c.bucketed, r.position, c.b
    """
    statements = Statements(cells, where_params)
    if question.other:
        kept = f"""
            SELECT {keys} FROM (
                SELECT {keys}, row_number() OVER (ORDER BY {ranking}) AS position
                FROM (SELECT {keys}, {measured} FROM base GROUP BY {keys})
            ) WHERE position <= {question.limit}
        """
        other_sets = "(), (b)" if question.calendar else "()"
        statements.other = f"""
            WITH base AS ({base}),
            rest AS (SELECT * FROM base c ANTI JOIN ({kept}) r ON {same_group})
            SELECT {bucket}, {measured}
            FROM rest GROUP BY GROUPING SETS ({other_sets})
            ORDER BY b NULLS FIRST
        """
        statements.other_params = list(where_params)
    return statements
