"""Funnels and retention tables as clients see them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql_analytics.domain.calendar import Calendar
from gql_analytics.domain.query import funnel, retention
from gql_analytics.entrypoints.graphql.common import Interval


@strawberry.type(description="One step of a funnel: who reached it, and how soon after entry.")
class FunnelStep:
    name: str
    users: int = strawberry.field(description="Users who reached this step.")
    conversion_from_previous: float | None = strawberry.field(
        description="Users here over users at the previous step (1 on the first step); null "
        "when nobody reached the previous step."
    )
    conversion_from_first: float | None = strawberry.field(
        description="Users here over users who entered; null when nobody entered."
    )
    median_seconds_from_entry: float | None = strawberry.field(
        description="Median seconds from entry to this step (nearest rank); null when nobody "
        "reached it."
    )
    p95_seconds_from_entry: float | None = strawberry.field(
        description="95th percentile of the seconds from entry to this step (nearest rank)."
    )


@strawberry.type(
    description="Users through ordered steps: a user enters at their first event of the first "
    "step in the range, and reaches each next step with their first event of it strictly after "
    "the previous step and within the window of entry. Only events with a user, in the range, "
    "are read."
)
class Funnel:
    entered: int
    window_seconds: float
    steps: list[FunnelStep]

    @classmethod
    def from_domain(cls, question: funnel.FunnelQuestion, found: funnel.Funnel) -> Funnel:
        return cls(
            entered=found.entered,
            window_seconds=question.window.total_seconds(),
            steps=[
                FunnelStep(
                    name=step.name,
                    users=result.users,
                    conversion_from_previous=found.from_previous(index),
                    conversion_from_first=found.from_first(index),
                    median_seconds_from_entry=result.median_seconds,
                    p95_seconds_from_entry=result.p95_seconds,
                )
                for index, (step, result) in enumerate(
                    zip(question.steps, found.steps, strict=True)
                )
            ],
        )


@strawberry.type(description="A cohort's users back in one period after it started.")
class RetentionPeriod:
    period: int = strawberry.field(description="0: the cohort's own interval.")
    start: datetime
    users: int | None = strawberry.field(
        description="Users of the cohort with a return event in the period (in period 0, "
        "after their cohort event); null when the period starts at or after the range's end."
    )
    share: float | None = strawberry.field(description="users over the cohort's users.")


@strawberry.type
class RetentionCohort:
    start: datetime
    users: int = strawberry.field(description="Users whose first cohort event is in it.")
    periods: list[RetentionPeriod]

    @classmethod
    def from_domain(cls, cohort: retention.Cohort, calendar: Calendar) -> RetentionCohort:
        return cls(
            start=cohort.start,
            users=cohort.users,
            periods=[
                RetentionPeriod(
                    period=n,
                    start=retention.period_start(cohort.start, n, calendar),
                    users=returned,
                    share=cohort.share(n),
                )
                for n, returned in enumerate(cohort.returning)
            ],
        )


@strawberry.type(
    description="Users by the interval of their first cohort event in the range, and the share "
    "of each cohort back with a return event in each interval after, intervals drawn on the "
    "timeZone's clock."
)
class Retention:
    interval: Interval
    cohorts: list[RetentionCohort]

    @classmethod
    def from_domain(
        cls, table: retention.RetentionTable, interval: Interval, calendar: Calendar
    ) -> Retention:
        return cls(
            interval=interval,
            cohorts=[RetentionCohort.from_domain(cohort, calendar) for cohort in table.cohorts],
        )
