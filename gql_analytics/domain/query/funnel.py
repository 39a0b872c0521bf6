"""Funnels: how many users go through ordered steps within a conversion window, and how long
they take.

The rules, which every store follows (the contract suite holds them to a brute-force reading):

- Only the tenant's events **with a user** that occurred **in the range** are read; an event
  without a user is in no funnel, and a step taken after the range's end does not count (a user
  who entered near the end has less than the window to convert).
- A user **enters** the funnel at their first step-1 event in the range (at its time ``t1``);
  a later step-1 event never restarts it.
- Step ``k`` (k > 1) is **reached** at the first step-``k`` event strictly after the moment
  step ``k - 1`` was reached, and no later than ``t1 + window`` (inclusive). Events at the same
  instant as the previous step do not count for the next, so a step repeated twice in a row
  (``view``, ``view``) needs two events. Taking the first such event each time is never worse
  than any other choice, so a user reaches step ``k`` exactly when some ordered chain of step
  events fits in the window.
- Per step: the users who reached it; the conversion from the previous step and from the first
  (None when nobody reached the step it divides by); and the median and p95 of the seconds from
  entry to reaching it, by nearest rank (the ``ceil(q * n)``-th smallest; None when nobody
  reached it). Step 1's conversions are 1 and its times 0 once anyone entered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

from gql_analytics.domain.query.steps import Step, by_user, nearest_rank
from gql_analytics.domain.records import Record
from gql_analytics.domain.timerange import TimeRange
from gql_analytics.errors import InvalidInput

MIN_STEPS = 2
MAX_STEPS = 10
MAX_WINDOW = timedelta(days=366)


@dataclass(frozen=True, slots=True)
class FunnelQuestion:
    tenant: str
    time_range: TimeRange
    steps: tuple[Step, ...]
    window: timedelta

    def check(self) -> FunnelQuestion:
        """This question, or a coded error saying what is wrong with it."""
        if not MIN_STEPS <= len(self.steps) <= MAX_STEPS:
            raise InvalidInput(
                f"steps: between {MIN_STEPS} and {MAX_STEPS}, got {len(self.steps)}",
                field="steps",
            )
        for index, step in enumerate(self.steps):
            step.check(f"steps[{index}]")
        if not timedelta(0) < self.window <= MAX_WINDOW:
            raise InvalidInput(
                f"window: must be longer than nothing and at most {MAX_WINDOW.days} days",
                field="window",
            )
        return self


@dataclass(frozen=True, slots=True)
class StepResult:
    """Users who reached a step, and the median and p95 seconds from entry to reaching it."""

    users: int
    median_seconds: float | None = None
    p95_seconds: float | None = None

    @classmethod
    def of_seconds(cls, seconds: Sequence[float]) -> StepResult:
        """A step's result from each of its users' seconds from entry."""
        ordered = sorted(seconds)
        return cls(len(ordered), nearest_rank(ordered, 0.5), nearest_rank(ordered, 0.95))


@dataclass(frozen=True, slots=True)
class Funnel:
    steps: tuple[StepResult, ...]

    @property
    def entered(self) -> int:
        return self.steps[0].users

    def from_previous(self, index: int) -> float | None:
        """The share of the previous step's users who reached step ``index`` (0-based)."""
        return _share(self.steps[index].users, self.steps[max(index - 1, 0)].users)

    def from_first(self, index: int) -> float | None:
        return _share(self.steps[index].users, self.entered)


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def funnel_of(question: FunnelQuestion, records: Iterable[Record]) -> Funnel:
    """The funnel of ``records``, by the rules above (for a store without a language for it)."""
    steps = question.steps
    seconds: list[list[float]] = [[] for _ in steps]
    for events in by_user(records, question.tenant, question.time_range, steps).values():
        entry = next((e.occurred_at for e in events if steps[0].matches(e)), None)
        if entry is None:
            continue
        deadline = entry + question.window
        reached, at = 1, entry
        seconds[0].append(0.0)
        for event in events:
            if reached == len(steps) or event.occurred_at > deadline:
                break
            if event.occurred_at > at and steps[reached].matches(event):
                at = event.occurred_at
                seconds[reached].append((at - entry).total_seconds())
                reached += 1
    return Funnel(tuple(StepResult.of_seconds(found) for found in seconds))
