"""The journey reader's contract: every funnel and retention table equals a brute-force reading
of the records the store was given (``journey_reference``), for generated records and
questions; and the cases named."""

from __future__ import annotations

import itertools
import math
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.conditions import Compare, Condition, Op
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.funnel import Funnel, FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion, RetentionTable
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.records import Batch, Event, Record
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.ports import JourneyReader, RecordWriter
from tests.contract.journey_reference import (
    CohortRow,
    StepRow,
    reference_funnel,
    reference_retention,
)
from tests.contract.roles.question_reader import conditions

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)  # a Monday
tenants = itertools.count()
NAMES = ["view", "cart", "buy"]


class Journeying(RecordWriter, JourneyReader, Protocol):
    """Journeys, and the writer of the records they are about."""


def rows_of_funnel(funnel: Funnel) -> list[StepRow]:
    return [(s.users, s.median_seconds, s.p95_seconds) for s in funnel.steps]


def rows_of_table(table: RetentionTable) -> list[CohortRow]:
    return [(c.start, c.users, c.returning) for c in table.cohorts]


def assert_same_steps(found: list[StepRow], expected: list[StepRow]) -> None:
    assert [users for users, _, _ in found] == [users for users, _, _ in expected]
    for got, wanted in zip(found, expected, strict=True):
        for a, b in zip(got[1:], wanted[1:], strict=True):
            assert (a is None) == (b is None), (found, expected)
            assert a is None or b is None or math.isclose(a, b, abs_tol=1e-6), (found, expected)


def event(id: str, minutes: float, name: str, user: str | None = "u1", **properties: Any) -> Event:
    return Event(
        id=id,
        name=name,
        tenant="default",
        occurred_at=T0 + timedelta(minutes=minutes),
        received_at=T0,
        user_id=user,
        properties=properties,
    )


# -- generated records and questions -----------------------------------------------------------


@st.composite
def journeys(draw: st.DrawFn, tenant: str, span_minutes: int) -> list[Record]:
    """Few users, few names and coarse times, so that steps tie, repeat and come out of order."""
    made: list[Record] = []
    for i in range(draw(st.integers(8, 40))):
        made.append(
            Event(
                id=str(i),
                name=draw(st.sampled_from(NAMES)),
                tenant=tenant,
                occurred_at=T0 + timedelta(minutes=draw(st.integers(0, span_minutes // 15)) * 15),
                received_at=T0,
                user_id=draw(st.sampled_from(["u1", "u2", "u3", None])),
                source=draw(st.sampled_from([None, "web", "ios"])),
                properties=draw(
                    st.dictionaries(
                        st.sampled_from(["plan", "value"]),
                        st.sampled_from(["free", "pro"]) | st.integers(0, 10),
                    )
                ),
            )
        )
    return made


def steps() -> st.SearchStrategy[Step]:
    unfiltered: st.SearchStrategy[Condition | None] = st.none()
    return st.builds(
        Step, st.sampled_from(NAMES), unfiltered | unfiltered | unfiltered | conditions("event")
    )


def ranges(span_minutes: int) -> st.SearchStrategy[TimeRange]:
    """Mostly over most of the records' span, sometimes past either end."""
    return st.tuples(
        st.integers(-60, span_minutes // 3), st.integers(span_minutes // 2, span_minutes + 120)
    ).map(
        lambda bounds: TimeRange(
            T0 + timedelta(minutes=bounds[0]), T0 + timedelta(minutes=bounds[0] + bounds[1])
        )
    )


FUNNEL_SPAN = 4 * 60


@st.composite
def funnel_cases(draw: st.DrawFn) -> tuple[list[Record], FunnelQuestion]:
    tenant = f"t{next(tenants)}"
    asked = FunnelQuestion(
        tenant,
        draw(ranges(FUNNEL_SPAN)),
        tuple(draw(st.lists(steps(), min_size=2, max_size=4))),
        timedelta(minutes=draw(st.sampled_from([120, 240, 60, 30, 15]))),
    ).check()
    return draw(journeys(tenant, FUNNEL_SPAN)), asked


RETENTION_SPAN = 3 * 7 * 24 * 60


@st.composite
def retention_cases(draw: st.DrawFn) -> tuple[list[Record], RetentionQuestion]:
    tenant = f"t{next(tenants)}"
    interval = draw(st.sampled_from([Interval.HOUR, Interval.DAY, Interval.WEEK]))
    span = {Interval.HOUR: 12 * 60, Interval.DAY: 6 * 24 * 60}.get(interval, RETENTION_SPAN)
    asked = RetentionQuestion(
        tenant,
        draw(ranges(span)),
        draw(steps()),
        draw(steps()),
        Calendar(interval),
        draw(st.integers(1, 5)),
    ).check()
    return draw(journeys(tenant, span)), asked


EXAMPLES = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


class JourneyReaderContract:
    """``JourneyReader``, on the ``store`` an adapter's test class gives."""

    @EXAMPLES
    @given(case=funnel_cases())
    async def test_every_funnel_is_the_brute_force_funnel(
        self, store: Journeying, case: tuple[list[Record], FunnelQuestion]
    ) -> None:
        records, asked = case
        await store.apply(Batch(records))
        assert_same_steps(
            rows_of_funnel(await store.funnel(asked)), reference_funnel(asked, records)
        )

    @EXAMPLES
    @given(case=retention_cases())
    async def test_every_retention_table_is_the_brute_force_table(
        self, store: Journeying, case: tuple[list[Record], RetentionQuestion]
    ) -> None:
        records, asked = case
        await store.apply(Batch(records))
        found = rows_of_table(await store.cohort_retention(asked))
        assert found == reference_retention(asked, records)

    async def test_a_three_step_funnel_counts_only_conversions_within_the_window(
        self, store: Journeying
    ) -> None:
        await store.apply(
            Batch(
                [
                    # a: every step, within the hour
                    event("a1", 0, "view", "a"),
                    event("a2", 10, "cart", "a"),
                    event("a3", 30, "buy", "a"),
                    # b: buys two hours after viewing: past the window
                    event("b1", 0, "view", "b"),
                    event("b2", 20, "cart", "b"),
                    event("b3", 120, "buy", "b"),
                    # c: a second view later does not restart the funnel
                    event("c1", 5, "view", "c"),
                    event("c2", 200, "view", "c"),
                    event("c3", 210, "cart", "c"),
                    # nobody: events without a user are in no funnel
                    event("x1", 0, "view", None),
                    event("x2", 1, "cart", None),
                ]
            )
        )
        asked = FunnelQuestion(
            "default",
            TimeRange(T0 - timedelta(hours=1), T0 + timedelta(hours=6)),
            (Step("view"), Step("cart"), Step("buy")),
            timedelta(hours=1),
        ).check()
        funnel = await store.funnel(asked)
        assert rows_of_funnel(funnel) == [(3, 0.0, 0.0), (2, 600.0, 1200.0), (1, 1800.0, 1800.0)]
        assert [funnel.from_previous(k) for k in range(3)] == [1.0, 2 / 3, 0.5]
        assert [funnel.from_first(k) for k in range(3)] == [1.0, 2 / 3, 1 / 3]

    async def test_steps_done_out_of_order_do_not_convert(self, store: Journeying) -> None:
        await store.apply(
            Batch(
                [
                    event("1", 0, "buy"),
                    event("2", 5, "cart"),
                    event("3", 10, "view"),
                    event("4", 15, "buy"),  # after the view, but the cart came before it
                ]
            )
        )
        asked = FunnelQuestion(
            "default",
            TimeRange(T0, T0 + timedelta(hours=1)),
            (Step("view"), Step("cart"), Step("buy")),
            timedelta(hours=1),
        ).check()
        assert [s.users for s in (await store.funnel(asked)).steps] == [1, 0, 0]

    async def test_a_step_filter_narrows_its_events(self, store: Journeying) -> None:
        await store.apply(
            Batch(
                [
                    event("1", 0, "view", "a"),
                    event("2", 1, "buy", "a", plan="free"),
                    event("3", 0, "view", "b"),
                    event("4", 1, "buy", "b", plan="pro"),
                ]
            )
        )
        pro = Compare(Field(Attribute.PROPERTY, "plan"), Op.EQ, "pro")
        asked = FunnelQuestion(
            "default",
            TimeRange(T0, T0 + timedelta(hours=1)),
            (Step("view"), Step("buy", pro)),
            timedelta(hours=1),
        ).check()
        assert [s.users for s in (await store.funnel(asked)).steps] == [2, 1]

    async def test_a_weekly_retention_table_over_three_weeks(self, store: Journeying) -> None:
        week = 7 * 24 * 60
        await store.apply(
            Batch(
                [
                    # week 0's cohort: a, b, c
                    event("a0", 60, "signup", "a"),
                    event("a1", 120, "login", "a"),  # after signing up, in week 0
                    event("a2", week + 60, "login", "a"),
                    event("a3", 2 * week + 60, "login", "a"),
                    event("b0", 2 * 60, "signup", "b"),
                    event("b1", 60, "login", "b"),  # before signing up: not a return
                    event("b2", 2 * week + 5, "login", "b"),
                    event("c0", 3 * 60, "signup", "c"),
                    # week 1's cohort: d, whose second signup does not move it
                    event("d0", week + 10, "signup", "d"),
                    event("d1", 2 * week + 10, "signup", "d"),
                    event("d2", 2 * week + 20, "login", "d"),
                    event("d3", 2 * week + 30, "login", "d"),
                ]
            )
        )
        monday = Calendar(Interval.WEEK).floor(T0)
        asked = RetentionQuestion(
            "default",
            TimeRange(monday, monday + timedelta(weeks=3)),
            Step("signup"),
            Step("login"),
            Calendar(Interval.WEEK),
            periods=4,
        ).check()
        table = await store.cohort_retention(asked)
        assert rows_of_table(table) == [
            (monday, 3, (1, 1, 2, None)),
            (monday + timedelta(weeks=1), 1, (0, 1, None, None)),
        ]
        assert [table.cohorts[0].share(n) for n in range(4)] == [1 / 3, 1 / 3, 2 / 3, None]

    async def test_another_tenants_events_are_never_counted(self, store: Journeying) -> None:
        theirs = [
            Event("1", "view", "acme", T0, T0, "u1"),
            Event("2", "buy", "acme", T0 + timedelta(minutes=1), T0, "u1"),
        ]
        await store.apply(Batch(theirs))
        window = TimeRange(T0, T0 + timedelta(hours=1))
        funnel = await store.funnel(
            FunnelQuestion(
                "default", window, (Step("view"), Step("buy")), timedelta(hours=1)
            ).check()
        )
        assert rows_of_funnel(funnel) == [(0, None, None), (0, None, None)]
        assert funnel.from_first(1) is None
        table = await store.cohort_retention(
            RetentionQuestion(
                "default", window, Step("view"), Step("buy"), Calendar(Interval.HOUR), 2
            ).check()
        )
        assert table.cohorts == ()
