"""The question reader's contract: every answer equals a brute-force reading of the records the
store was given (``reference``), for generated records and questions; and the cases named."""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.conditions import AllOf, AnyOf, Compare, Condition, Not, Op
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.measures import Measure
from gql_analytics.domain.query.measures import Op as MeasureOp
from gql_analytics.domain.query.question import Cell, Order, Question
from gql_analytics.domain.records import Batch, Event, MetricPoint, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import DimensionRepository, QuestionReader, RecordWriter, RollupReader
from gql_analytics.services import planner
from tests.contract.question_reference import reference

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
DECLARED = T0 - timedelta(days=30)  # long before any range asked
SPAN = TimeRange(T0 - timedelta(days=2), T0 + timedelta(days=2))
tenants = itertools.count()


class Answering(RecordWriter, QuestionReader, RollupReader, DimensionRepository, Protocol):
    """Answers, the rollups the planner may read them from instead, and the writer of the
    records they are about."""


def question(kind: str = EVENT, **fields: Any) -> Question:
    fields.setdefault("measures", (Measure(MeasureOp.COUNT),))
    fields.setdefault("time_range", SPAN)
    return Question(tenant=fields.pop("tenant", "default"), kind=kind, **fields).check()


def same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def assert_same_cells(found: Sequence[Cell], expected: Sequence[Cell]) -> None:
    shape = [(c.key, c.bucket, c.other) for c in found]
    assert shape == [(c.key, c.bucket, c.other) for c in expected]
    for got, wanted in zip(found, expected, strict=True):
        assert same(got.values, wanted.values), (got, wanted)


# -- generated records and questions -----------------------------------------------------------

PROPERTY_VALUES = st.one_of(
    st.sampled_from(["free", "pro", "team", "1"]), st.integers(-3, 40), st.booleans()
)
minutes = st.integers(-2 * 24 * 60 - 30, 2 * 24 * 60 + 30)


@st.composite
def events(draw: st.DrawFn, tenant: str) -> list[Record]:
    made: list[Record] = []
    for i in range(draw(st.integers(0, 25))):
        properties = draw(
            st.dictionaries(st.sampled_from(["plan", "value", "country"]), PROPERTY_VALUES)
        )
        made.append(
            Event(
                id=str(i),
                name=draw(st.sampled_from(["signup", "login", "purchase"])),
                tenant=tenant,
                occurred_at=T0 + timedelta(minutes=draw(minutes)),
                received_at=T0,
                user_id=draw(st.sampled_from([None, "u1", "u2", "u3", "u4"])),
                source=draw(st.sampled_from([None, "web", "ios"])),
                properties=properties,
            )
        )
    return made


@st.composite
def points(draw: st.DrawFn, tenant: str) -> list[Record]:
    made: list[Record] = []
    for i in range(draw(st.integers(0, 25))):
        tags = draw(
            st.dictionaries(
                st.sampled_from(["region", "host"]), st.sampled_from(["eu", "us", "h1"])
            )
        )
        made.append(
            MetricPoint(
                id=str(i),
                name=draw(st.sampled_from(["latency", "load"])),
                value=float(draw(st.integers(-50, 500))),
                tenant=tenant,
                occurred_at=T0 + timedelta(minutes=draw(minutes)),
                received_at=T0,
                tags=tags,
            )
        )
    return made


def fields_of(kind: str) -> st.SearchStrategy[Field]:
    if kind == EVENT:
        return st.one_of(
            st.sampled_from(
                [Field(Attribute.NAME), Field(Attribute.SOURCE), Field(Attribute.USER)]
            ),
            st.sampled_from(["plan", "value", "country"]).map(
                lambda k: Field(Attribute.PROPERTY, k)
            ),
        )
    return st.one_of(
        st.just(Field(Attribute.NAME)),
        st.sampled_from(["region", "host"]).map(lambda k: Field(Attribute.TAG, k)),
    )


def conditions(kind: str) -> st.SearchStrategy[Condition]:
    compare = st.builds(
        Compare,
        fields_of(kind) | (st.just(Field(Attribute.VALUE)) if kind == METRIC else st.nothing()),
        st.sampled_from([Op.EQ, Op.NE, Op.EXISTS, Op.GT, Op.LTE]),
        st.sampled_from(["free", "pro", "eu", "signup", "u1", "web", 3, 10, True]),
    ).map(_sensible) | st.builds(
        Compare,
        fields_of(kind),
        st.just(Op.IN),
        st.lists(PROPERTY_VALUES | st.sampled_from(["eu", "login"]), max_size=3).map(tuple),
    )
    return st.recursive(
        compare,
        lambda inner: st.one_of(
            st.lists(inner, min_size=1, max_size=3).map(lambda parts: AllOf(tuple(parts))),
            st.lists(inner, min_size=1, max_size=3).map(lambda parts: AnyOf(tuple(parts))),
            inner.map(Not),
        ),
        max_leaves=4,
    )


def _sensible(compare: Compare) -> Compare:
    if (compare.op in (Op.GT, Op.LTE) and not isinstance(compare.value, int)) or (
        isinstance(compare.value, bool) and compare.op in (Op.GT, Op.LTE)
    ):
        return Compare(compare.field, compare.op, 3)
    if compare.op is Op.EXISTS:
        return Compare(compare.field, compare.op, compare.value is not True)
    return compare


@st.composite
def questions(draw: st.DrawFn, tenant: str, kind: str) -> Question:
    numeric = (
        st.sampled_from(["value", "plan"]).map(lambda k: Field(Attribute.PROPERTY, k))
        if kind == EVENT
        else st.just(Field(Attribute.VALUE))
    )
    record_ops = [MeasureOp.COUNT] + ([MeasureOp.DISTINCT_USERS] if kind == EVENT else [])
    measure = st.one_of(
        st.sampled_from(record_ops).map(Measure),
        st.builds(
            Measure,
            st.sampled_from(
                [op for op in MeasureOp if op not in (MeasureOp.COUNT, MeasureOp.DISTINCT_USERS)]
            ),
            numeric,
        ),
    )
    measures = tuple(draw(st.lists(measure, min_size=1, max_size=3)))
    dimensions = tuple(draw(st.lists(fields_of(kind), max_size=2, unique=True)))
    # Order by a measure whose value is the same in every engine (not a float sum of squares).
    orderable = [i for i, m in enumerate(measures) if m.op is not MeasureOp.STDDEV]
    if dimensions and (not orderable or draw(st.booleans())):
        order = Order(
            measure=None,
            dimension=draw(st.integers(0, len(dimensions) - 1)),
            descending=draw(st.booleans()),
        )
    elif orderable:
        order = Order(measure=draw(st.sampled_from(orderable)), descending=draw(st.booleans()))
    else:
        order = Order()
    start = draw(st.integers(-3 * 24 * 60, 24 * 60))
    length = draw(st.integers(1, 3 * 24 * 60))
    return question(
        kind,
        tenant=tenant,
        measures=measures,
        dimensions=dimensions,
        names=draw(
            st.none()
            | st.lists(
                st.sampled_from(["signup", "login", "latency", "nothing"]), min_size=1, max_size=2
            ).map(tuple)
        ),
        calendar=draw(
            st.sampled_from(
                [
                    None,
                    Interval.HOUR,
                    Interval.DAY,
                    Interval.FIFTEEN_MINUTES,
                    Interval.WEEK,
                    Interval.MONTH,
                ]
            ).map(lambda i: None if i is None else Calendar(i))
        ),
        where=draw(st.none() | conditions(kind)),
        order=order,
        limit=draw(st.integers(1, 4)),
        other=draw(st.booleans()),
        time_range=TimeRange(T0 + timedelta(minutes=start), T0 + timedelta(minutes=start + length)),
    )


@st.composite
def cases(draw: st.DrawFn) -> tuple[list[Record], Question]:
    tenant = f"t{next(tenants)}"
    kind = draw(st.sampled_from([EVENT, METRIC]))
    made = draw(events(tenant) if kind == EVENT else points(tenant))
    return made, draw(questions(tenant, kind))


class QuestionReaderContract:
    """``QuestionReader``, on the ``store`` an adapter's test class gives."""

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(case=cases())
    async def test_every_answer_is_the_brute_force_answer(
        self, store: Answering, case: tuple[list[Record], Question]
    ) -> None:
        records, asked = case
        await store.apply(Batch(records))
        assert_same_cells(await store.answer(asked), reference(asked, records))

    @settings(
        max_examples=60,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
        ],
    )
    @given(case=cases())
    async def test_the_rollups_answer_what_the_raw_records_answer(
        self, store: Answering, case: tuple[list[Record], Question]
    ) -> None:
        """Where the planner may read the rollups instead (names and tags as dimensions and
        conditions; measures a rollup keeps), they give the raw records' answer."""
        records, asked = case
        keys = ["plan", "country"] if asked.kind == EVENT else ["region", "host"]
        declared = await store.declare_dimensions(asked.tenant, asked.kind, keys, DECLARED)
        assume(planner.rollups_answer(asked, declared))
        await store.apply(Batch(records))
        series = await store.series(asked.tenant, asked.kind, asked.names)
        from_rollups = await planner.from_rollups(store, asked, series)
        from_raw = await store.answer(asked)
        assert [(c.key, c.bucket, c.other) for c in from_rollups] == [
            (c.key, c.bucket, c.other) for c in from_raw
        ]
        for rolled, raw in zip(from_rollups, from_raw, strict=True):
            # A standard deviation from sums of squares is within rounding of the scan's.
            assert all(
                math.isclose(a, b, rel_tol=1e-6, abs_tol=1e-3)
                if a is not None and b is not None
                else a == b
                for a, b in zip(rolled.values, raw.values, strict=True)
            ), (rolled, raw)

    async def test_a_breakdown_by_property_counts_and_sums(self, store: Answering) -> None:
        def bought(i: int, plan: str | None, amount: float) -> Event:
            properties: dict[str, Any] = {"amount": amount}
            if plan is not None:
                properties["plan"] = plan
            return Event(
                str(i),
                "purchase",
                "default",
                T0 + timedelta(minutes=i),
                T0,
                f"u{i % 2}",
                properties=properties,
            )

        await store.apply(
            Batch(
                [
                    bought(0, "pro", 10),
                    bought(1, "pro", 30),
                    bought(2, "free", 5),
                    bought(3, None, 1),
                ]
            )
        )
        amount = Field(Attribute.PROPERTY, "amount")
        asked = question(
            measures=(
                Measure(MeasureOp.COUNT),
                Measure(MeasureOp.SUM, amount),
                Measure(MeasureOp.DISTINCT_USERS),
            ),
            dimensions=(Field(Attribute.PROPERTY, "plan"),),
        )
        assert [(c.key, c.values) for c in await store.answer(asked)] == [
            (("pro",), (2.0, 40.0, 2.0)),
            (("free",), (1.0, 5.0, 1.0)),
            ((None,), (1.0, 1.0, 1.0)),
        ]

    async def test_groups_past_the_limit_are_merged_into_other(self, store: Answering) -> None:
        names = ["a"] * 5 + ["b"] * 3 + ["c"] * 2 + ["d"]
        await store.apply(
            Batch(
                [
                    Event(str(i), n, "default", T0 + timedelta(minutes=i), T0)
                    for i, n in enumerate(names)
                ]
            )
        )
        asked = question(
            dimensions=(Field(Attribute.NAME),),
            limit=2,
            other=True,
            calendar=Calendar(Interval.DAY),
        )
        whole = [(c.key, c.values, c.other) for c in await store.answer(asked) if c.bucket is None]
        assert whole == [(("a",), (5.0,), False), (("b",), (3.0,), False), ((None,), (3.0,), True)]

    @pytest.mark.parametrize("kind", [EVENT, METRIC])
    async def test_another_tenants_records_are_never_counted(
        self, store: Answering, kind: str
    ) -> None:
        if kind == EVENT:
            theirs: Record = Event("x", "login", "acme", T0, T0)
        else:
            theirs = MetricPoint("x", "latency", 1.0, "acme", T0, T0)
        await store.apply(Batch([theirs]))
        assert await store.answer(question(kind)) == []

    async def test_a_string_condition_on_a_numeric_property_has_one_answer(
        self, store: Answering
    ) -> None:
        asked = question(where=Compare(Field(Attribute.PROPERTY, "plan"), Op.EQ, "5"))
        rolled, raw = await both_plans(store, asked, [bought(0, 5), bought(1, "5")])
        assert [(c.key, c.values) for c in raw] == [((), (1.0,))]  # only the string "5"
        assert [(c.key, c.values) for c in rolled] == [(c.key, c.values) for c in raw]

    async def test_a_string_condition_on_a_boolean_property_has_one_answer(
        self, store: Answering
    ) -> None:
        asked = question(where=Compare(Field(Attribute.PROPERTY, "plan"), Op.NE, "true"))
        rolled, raw = await both_plans(store, asked, [bought(0, True), bought(1, "x")])
        assert [(c.key, c.values) for c in raw] == [((), (2.0,))]  # NE holds for the boolean
        assert [(c.key, c.values) for c in rolled] == [(c.key, c.values) for c in raw]

    async def test_a_float_property_is_one_group_key_on_both_plans(self, store: Answering) -> None:
        asked = question(dimensions=(Field(Attribute.PROPERTY, "plan"),))
        rolled, raw = await both_plans(store, asked, [bought(0, 1e16), bought(1, 1.5e-7)])
        assert sorted(c.key for c in raw) == [("1.5e-07",), ("1e+16",)]
        assert sorted(c.key for c in rolled) == sorted(c.key for c in raw)


async def both_plans(
    store: Answering, asked: Question, records: list[Record]
) -> tuple[list[Cell], list[Cell]]:
    """With ``plan`` declared: the rollups' answer (the scan's, where they cannot answer) and the
    scan's."""
    declared = await store.declare_dimensions(asked.tenant, EVENT, ["plan"], DECLARED)
    await store.apply(Batch(records))
    raw = await store.answer(asked)
    if not planner.rollups_answer(asked, declared):
        return raw, raw
    series = await store.series(asked.tenant, EVENT, asked.names)
    return await planner.from_rollups(store, asked, series), raw


def bought(i: int, plan: Any) -> Event:
    return Event(
        str(i), "purchase", "default", T0 + timedelta(minutes=i), T0, properties={"plan": plan}
    )
