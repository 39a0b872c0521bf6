"""Funnels and retention as DuckDB SQL over the raw events: one scan keeps the events a step
matches (a flag per step), then each step is a join on the user and a ``min`` of time, as one
would write a funnel by hand. The rules are ``domain.query.funnel``'s and
``domain.query.retention``'s."""

from __future__ import annotations

from collections.abc import Sequence

from gql_analytics.adapters.duckdb.calendar_sql import bucket_sql
from gql_analytics.adapters.duckdb.questions import condition_sql
from gql_analytics.adapters.duckdb.values import Params, micros, naive
from gql_analytics.domain.query.funnel import FunnelQuestion
from gql_analytics.domain.query.retention import RetentionQuestion
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.timerange import TimeRange


def _matching(tenant: str, time_range: TimeRange, steps: Sequence[Step]) -> tuple[str, Params]:
    """The events with a user in the range that some step matches: ``user_id``, ``t`` and a
    flag ``s<i>`` per step."""
    params: Params = []
    flags = []
    for index, step in enumerate(steps):
        params.append(step.name)
        where = "" if step.where is None else f" AND {condition_sql(step.where, params)}"
        flags.append(f"(name = ?{where}) AS s{index}")
    names = list(dict.fromkeys(step.name for step in steps))
    params += [tenant, naive(time_range.start), naive(time_range.end), names]
    return (
        f"SELECT user_id, occurred_at AS t, {', '.join(flags)} FROM events "
        "WHERE tenant = ? AND occurred_at >= ? AND occurred_at < ? AND user_id IS NOT NULL "
        "AND name IN (SELECT unnest(?::VARCHAR[]))",
        params,
    )


def funnel_sql(question: FunnelQuestion) -> tuple[str, Params]:
    """Rows ``(step, users, median µs, p95 µs)`` from entry, one per step in order."""
    matching, params = _matching(question.tenant, question.time_range, question.steps)
    window = f"to_microseconds({micros(question.window)})"
    reached = ["r0 AS (SELECT user_id, min(t) AS t0, min(t) AS reached FROM e WHERE s0 GROUP BY 1)"]
    for k in range(1, len(question.steps)):
        reached.append(
            f"r{k} AS (SELECT r.user_id, r.t0, min(e.t) AS reached FROM r{k - 1} r JOIN e "
            f"ON e.user_id = r.user_id AND e.s{k} AND e.t > r.reached AND e.t <= r.t0 + {window} "
            "GROUP BY 1, 2)"
        )
    elapsed = "epoch_us(reached) - epoch_us(t0)"
    per_step = " UNION ALL ".join(
        f"SELECT {k} AS step, count(*), quantile_disc({elapsed}, 0.5), "
        f"quantile_disc({elapsed}, 0.95) FROM r{k}"
        for k in range(len(question.steps))
    )
    return (
        f"WITH e AS ({matching}), {', '.join(reached)} {per_step} ORDER BY step",
        params,
    )


def retention_sql(question: RetentionQuestion) -> tuple[str, Params]:
    """Rows ``(cohort start, None, users)`` per cohort and ``(cohort start, period, users)``
    per period with users back in it (periods past the question's absent)."""
    steps = (question.cohort, question.returning)
    matching, params = _matching(question.tenant, question.time_range, steps)
    calendar, window = question.calendar, question.time_range
    # Every bucket start of the range, numbered: a period is the difference of two numbers (a
    # bucket's width is the calendar's business: 23 to 25 hours for a local day, a month's own).
    starts = [naive(b) for b in calendar.buckets(window)]
    params = [starts, list(range(len(starts))), *params]
    return (
        f"""
        WITH numbered AS (SELECT unnest(?::TIMESTAMP[]) AS b, unnest(?::BIGINT[]) AS i),
        e AS ({matching}),
        firsts AS (SELECT user_id, min(t) AS t0 FROM e WHERE s0 GROUP BY 1),
        cohorts AS (
            SELECT user_id, t0, {bucket_sql("t0", calendar, window)} AS cohort FROM firsts
        ),
        back AS (
            SELECT DISTINCT c.cohort, c.user_id, ei.i - ci.i AS period
            FROM cohorts c JOIN e ON e.user_id = c.user_id AND e.s1 AND e.t > c.t0
            JOIN numbered ci ON ci.b = c.cohort
            JOIN numbered ei ON ei.b = {bucket_sql("e.t", calendar, window)}
        )
        SELECT cohort, NULL::BIGINT, count(*) FROM cohorts GROUP BY 1
        UNION ALL
        SELECT cohort, period, count(*) FROM back WHERE period < {question.periods} GROUP BY 1, 2
        """,
        params,
    )
