"""Cohort retention: users grouped by the interval of their first cohort event, and the share of
each cohort that comes back with a return event in each interval that follows.

The rules, which every store follows (the contract suite holds them to a brute-force reading):

- Only the tenant's events **with a user** that occurred **in the range** are read, return
  events included: the range chooses both the cohorts and the activity that counts.
- A user's **cohort** is the interval (``cohort_start``) holding their first cohort event in the
  range, at ``t0``. A cohort's size is the number of its users; cohorts without users are absent.
- **Period** ``n`` of a cohort is the ``n``-th interval after the cohort's (``period_start``);
  a user of the cohort **returns** in it with a return event in it strictly after ``t0``. So
  period 0 is the cohort's own interval, where only a return after the cohort event counts
  (with the same name for both, the cohort event itself never does); a user counts once per
  period however many return events they have in it.
- A period that starts at or after the range's end was not observed: its count and share are
  None, not 0. A period cut by the range's end counts what happened before the end.
- The share of a period is its returning users over the cohort's size.

Intervals follow the question's ``Calendar`` (an interval on a time zone's clock: a local day
is 23 or 25 hours long across a DST change, a month its own length); ``cohort_start``,
``period_start`` and ``period_of`` are the only places that draw them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query.steps import Step, by_user
from gql_analytics.domain.records import Record
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.errors import InvalidInput

MAX_PERIODS = 100
MAX_CELLS = 20_000  # cohorts times periods one answer may hold


def cohort_start(moment: datetime, calendar: Calendar) -> datetime:
    """The start of the interval holding ``moment``."""
    return calendar.floor(moment)


def period_of(cohort: datetime, moment: datetime, calendar: Calendar, most: int) -> int | None:
    """Which period of the cohort starting at ``cohort`` holds ``moment`` (at or after it);
    None past the first ``most``."""
    wanted = calendar.floor(moment)
    start = cohort
    for period in range(most):
        if start == wanted:
            return period
        start = calendar.following(start)
    return None


def period_start(cohort: datetime, period: int, calendar: Calendar) -> datetime:
    start = cohort
    for _ in range(period):
        start = calendar.following(start)
    return start


@dataclass(frozen=True, slots=True)
class RetentionQuestion:
    tenant: str
    time_range: TimeRange
    cohort: Step
    returning: Step
    calendar: Calendar
    periods: int

    def check(self) -> RetentionQuestion:
        """This question, or a coded error saying what is wrong with it."""
        self.cohort.check("cohort")
        self.returning.check("returning")
        if not 1 <= self.periods <= MAX_PERIODS:
            raise InvalidInput(f"periods: between 1 and {MAX_PERIODS}", field="periods")
        cohorts = len(self.calendar.buckets(self.time_range))
        if cohorts * self.periods > MAX_CELLS:
            raise InvalidInput(
                f"the table would hold {cohorts:,} cohorts of {self.periods} periods, past "
                f"{MAX_CELLS:,} cells: shorten the range, or choose a coarser interval or "
                "fewer periods",
                field="periods",
            )
        return self

    def observed(self, cohort: datetime, period: int) -> bool:
        """Whether the period starts before the range's end."""
        return period_start(cohort, period, self.calendar) < self.time_range.end


@dataclass(frozen=True, slots=True)
class Cohort:
    start: datetime
    users: int
    returning: tuple[int | None, ...]  # per period; None where it was not observed

    def share(self, period: int) -> float | None:
        returned = self.returning[period]
        return None if returned is None else returned / self.users


@dataclass(frozen=True, slots=True)
class RetentionTable:
    cohorts: tuple[Cohort, ...]  # in time order

    @classmethod
    def of_counts(
        cls,
        question: RetentionQuestion,
        sizes: Mapping[datetime, int],
        returning: Mapping[tuple[datetime, int], int],
    ) -> RetentionTable:
        """The table from each cohort's size and its returning users per (cohort, period)."""
        return cls(
            tuple(
                Cohort(
                    start,
                    size,
                    tuple(
                        returning.get((start, n), 0) if question.observed(start, n) else None
                        for n in range(question.periods)
                    ),
                )
                for start, size in sorted(sizes.items())
            )
        )


def retention_of(question: RetentionQuestion, records: Iterable[Record]) -> RetentionTable:
    """The retention table of ``records``, by the rules above."""
    calendar = question.calendar
    sizes: dict[datetime, int] = {}
    returning: dict[tuple[datetime, int], int] = {}
    steps = (question.cohort, question.returning)
    for events in by_user(records, question.tenant, question.time_range, steps).values():
        first = next((e.occurred_at for e in events if question.cohort.matches(e)), None)
        if first is None:
            continue
        cohort = cohort_start(first, calendar)
        sizes[cohort] = sizes.get(cohort, 0) + 1
        periods = {
            period_of(cohort, e.occurred_at, calendar, question.periods)
            for e in events
            if e.occurred_at > first and question.returning.matches(e)
        }
        for period in periods:
            if period is not None:
                returning[(cohort, period)] = returning.get((cohort, period), 0) + 1
    return RetentionTable.of_counts(question, sizes, returning)
