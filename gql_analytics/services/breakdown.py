"""A question's cells as the answer a chart draws: every group in order, each with its value
over the whole range and a point for every bucket of the range."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from gql_analytics.domain.query.measures import OF_RECORDS
from gql_analytics.domain.query.question import Cell, Key, Question
from gql_analytics.services.answers import Breakdown, BreakdownGroup


def breakdown(
    question: Question,
    cells: Sequence[Cell],
    buckets: Sequence[datetime],
    plan: dict[str, object],
) -> Breakdown:
    """``buckets``: the start of every bucket of the range (none without an interval)."""
    empty = tuple(0.0 if m.op in OF_RECORDS else None for m in question.measures)
    whole = [c for c in cells if c.bucket is None]
    if not whole and not question.dimensions:
        whole = [Cell((), None, empty)]  # one group, the whole range: zero counts, no values
    points: dict[tuple[Key, bool], dict[datetime, tuple[float | None, ...]]] = {}
    for cell in cells:
        if cell.bucket is not None:
            points.setdefault((cell.key, cell.other), {})[cell.bucket] = cell.values
    groups = []
    for cell in whole:
        own = points.get((cell.key, cell.other), {})
        groups.append(
            BreakdownGroup(
                cell.key, cell.other, cell.values, [(b, own.get(b, empty)) for b in buckets]
            )
        )
    return Breakdown(
        measures=[m.label for m in question.measures],
        dimensions=[d.label for d in question.dimensions],
        groups=groups,
        plan=plan,
    )
