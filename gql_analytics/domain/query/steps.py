"""A step of a user's journey (a funnel's step, a retention's cohort or return event): the events
of one name, optionally narrowed by a condition; and what funnels and retention share of them."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from gql_analytics.domain import validation
from gql_analytics.domain.query import conditions
from gql_analytics.domain.query.conditions import Condition
from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.rollup import EVENT
from gql_analytics.domain.timerange import TimeRange


@dataclass(frozen=True, slots=True)
class Step:
    """Events named ``name`` for which ``where`` holds (any such event when it is None)."""

    name: str
    where: Condition | None = None

    def check(self, field: str) -> None:
        validation.name(self.name, f"{field}.name")
        if self.where is not None:
            conditions.check(self.where, EVENT, f"{field}.where")

    def matches(self, event: Event) -> bool:
        return event.name == self.name and (self.where is None or self.where.holds(event))


def by_user(
    records: Iterable[Record], tenant: str, time_range: TimeRange, steps: Sequence[Step]
) -> dict[str, list[Event]]:
    """The tenant's events with a user in the range that some step matches, per user, in time
    order: all a funnel or a retention reads (events without a user are in neither)."""
    users: defaultdict[str, list[Event]] = defaultdict(list)
    for record in records:
        if (
            isinstance(record, Event)
            and record.user_id is not None
            and record.tenant == tenant
            and time_range.start <= record.occurred_at < time_range.end
            and any(step.matches(record) for step in steps)
        ):
            users[record.user_id].append(record)
    for events in users.values():
        events.sort(key=lambda event: event.occurred_at)
    return dict(users)


def nearest_rank(ordered: Sequence[float], q: float) -> float | None:
    """The ``max(ceil(q * n), 1)``-th of ``n`` values in ascending order (SQL's
    ``quantile_disc``); None when there are none."""
    if not ordered:
        return None
    return ordered[max(math.ceil(q * len(ordered)), 1) - 1]
