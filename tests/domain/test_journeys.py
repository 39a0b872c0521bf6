"""Funnel and retention questions: what they refuse, and the rules their evaluators follow that
the contract suite's generated cases reach only by chance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.conditions import Compare, Op
from gql_analytics.domain.query.fields import Attribute, Field
from gql_analytics.domain.query.funnel import FunnelQuestion, funnel_of
from gql_analytics.domain.query.retention import RetentionQuestion, retention_of
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.records import Event
from gql_analytics.domain.timerange import Interval, TimeRange
from gql_analytics.errors import InvalidInput

T0 = datetime(2026, 11, 16, 9, 0, tzinfo=UTC)
HOUR = TimeRange(T0, T0 + timedelta(hours=1))


def at(minutes: float, name: str, user: str | None = "u1") -> Event:
    return Event(f"{name}{minutes}", name, "default", T0 + timedelta(minutes=minutes), T0, user)


def funnel(*steps: Step, window: timedelta = timedelta(hours=1)) -> FunnelQuestion:
    return FunnelQuestion("default", HOUR, steps, window)


def retention(**changes: object) -> RetentionQuestion:
    fields: dict[str, object] = {
        "tenant": "default",
        "time_range": HOUR,
        "cohort": Step("signup"),
        "returning": Step("login"),
        "calendar": Calendar(Interval.DAY),
        "periods": 4,
    }
    return RetentionQuestion(**(fields | changes))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("question", "field"),
    [
        (funnel(Step("view")), "steps"),
        (funnel(*[Step("view")] * 11), "steps"),
        (funnel(Step("view"), Step("")), "steps[1].name"),
        (funnel(Step("view"), Step("buy"), window=timedelta(0)), "window"),
        (funnel(Step("view"), Step("buy"), window=timedelta(days=400)), "window"),
        (
            funnel(Step("view"), Step("buy", Compare(Field(Attribute.TAG, "x"), Op.EQ, "y"))),
            "steps[1].where",
        ),
    ],
)
def test_a_funnel_that_cannot_be_answered_names_its_field(
    question: FunnelQuestion, field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        question.check()
    assert refused.value.field == field


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"periods": 0}, "periods"),
        ({"periods": 101}, "periods"),
        (
            {
                "time_range": TimeRange(T0, T0 + timedelta(days=60)),
                "calendar": Calendar(Interval.HOUR),
                "periods": 24,
            },
            "periods",
        ),
        ({"cohort": Step("no spaces")}, "cohort.name"),
    ],
)
def test_a_retention_that_cannot_be_answered_names_its_field(
    changes: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        retention(**changes).check()
    assert refused.value.field == field


def test_a_step_repeated_needs_two_events() -> None:
    twice = funnel(Step("view"), Step("view"))
    assert [s.users for s in funnel_of(twice, [at(0, "view")]).steps] == [1, 0]
    assert [s.users for s in funnel_of(twice, [at(0, "view"), at(1, "view")]).steps] == [1, 1]


def test_a_step_at_the_same_instant_as_the_one_before_does_not_count() -> None:
    question = funnel(Step("view"), Step("buy"))
    assert [s.users for s in funnel_of(question, [at(5, "view"), at(5, "buy")]).steps] == [1, 0]


def test_a_conversion_at_the_end_of_the_window_counts() -> None:
    question = funnel(Step("view"), Step("buy"), window=timedelta(minutes=30))
    found = funnel_of(question, [at(0, "view"), at(30, "buy")])
    assert [(s.users, s.median_seconds) for s in found.steps] == [(1, 0.0), (1, 1800.0)]
    late = funnel_of(question, [at(0, "view"), at(30.5, "buy")])
    assert [s.users for s in late.steps] == [1, 0]


def test_periods_after_the_range_are_not_observed_and_the_cohort_event_is_no_return() -> None:
    question = retention(cohort=Step("login"), returning=Step("login"), periods=3)
    table = retention_of(question, [at(0, "login"), at(10, "login", "u2"), at(20, "login", "u2")])
    (cohort,) = table.cohorts
    assert (cohort.start, cohort.users, cohort.returning) == (
        datetime(2026, 11, 16, tzinfo=UTC),
        2,
        (1, None, None),
    )
    assert cohort.share(0) == 0.5
