"""Brute-force funnels and retention, written apart from the gateway's own code (and as plainly
as possible) so that the contract suite can hold every store's answers to them.

The funnel is read the long way round: a user reaches step k when some chain of events, one per
step, strictly later each than the one before, fits within the window of their entry; the time
they reach it is the earliest last event of any such chain. (The gateway walks each user's
events once, greedily.)"""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.timerange import Interval, TimeRange
from tests.contract.question_reference import bucket, holds

StepRow = tuple[int, float | None, float | None]
"""(users who reached the step, median seconds from entry, p95 seconds from entry)"""
CohortRow = tuple[datetime, int, tuple[int | None, ...]]
"""(cohort start, users, users back in each period or None where the period is unobserved)"""


def is_step(step: Step, event: Event) -> bool:
    return event.name == step.name and (step.where is None or holds(step.where, event))


def users_events(records: list[Record], tenant: str, window: TimeRange) -> dict[str, list[Event]]:
    found: dict[str, list[Event]] = {}
    for r in records:
        if (
            isinstance(r, Event)
            and r.tenant == tenant
            and r.user_id is not None
            and window.start <= r.occurred_at < window.end
        ):
            found.setdefault(r.user_id, []).append(r)
    return found


def rank(xs: list[float], q: float) -> float | None:
    if not xs:
        return None
    xs = sorted(xs)
    return xs[max(math.ceil(q * len(xs)), 1) - 1]


def reference_funnel(question: FunnelQuestion, records: list[Record]) -> list[StepRow]:
    steps = question.steps
    seconds: list[list[float]] = [[] for _ in steps]
    for events in users_events(records, question.tenant, question.time_range).values():
        entries = [e.occurred_at for e in events if is_step(steps[0], e)]
        if not entries:
            continue
        t1 = min(entries)
        seconds[0].append(0.0)
        times = [
            sorted(
                e.occurred_at
                for e in events
                if is_step(step, e) and t1 < e.occurred_at <= t1 + question.window
            )
            for step in steps
        ]
        for k in range(1, len(steps)):
            chains = [
                chain
                for chain in itertools.product(*times[1 : k + 1])
                if all(a < b for a, b in zip((t1, *chain), chain, strict=False))
            ]
            if not chains:
                break
            reached = min(chain[-1] for chain in chains)
            seconds[k].append((reached - t1) / timedelta(seconds=1))
    return [(len(xs), rank(xs, 0.5), rank(xs, 0.95)) for xs in seconds]


def reference_retention(question: RetentionQuestion, records: list[Record]) -> list[CohortRow]:
    width = {Interval.HOUR: timedelta(hours=1), Interval.DAY: timedelta(days=1)}.get(
        question.calendar.interval, timedelta(weeks=1)
    )  # the contract asks UTC hours, days and weeks
    cohorts: dict[datetime, list[tuple[datetime, list[Event]]]] = {}
    for events in users_events(records, question.tenant, question.time_range).values():
        firsts = [e.occurred_at for e in events if is_step(question.cohort, e)]
        if firsts:
            t0 = min(firsts)
            cohorts.setdefault(bucket(t0, question.calendar), []).append((t0, events))
    rows: list[CohortRow] = []
    for start in sorted(cohorts):
        members = cohorts[start]
        back: list[int | None] = []
        for n in range(question.periods):
            begins = start + n * width
            if begins >= question.time_range.end:
                back.append(None)
                continue
            back.append(
                sum(
                    1
                    for t0, events in members
                    if any(
                        is_step(question.returning, e)
                        and e.occurred_at > t0
                        and begins <= e.occurred_at < begins + width
                        for e in events
                    )
                )
            )
        rows.append((start, len(members), tuple(back)))
    return rows
