"""A staged batch applied in the writer's transaction: its new rows inserted, rolled up by SQL
into series, buckets, bins and presence, its task facts folded in Python, its positions
written."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import duckdb

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.declared import capped, mark_overflowed
from gql_analytics.adapters.duckdb.messages.stage import TASK_NAMES, Staged, on
from gql_analytics.adapters.duckdb.questions import key_text_sql, literal
from gql_analytics.adapters.duckdb.values import EVENT_COLUMNS, event_of, naive
from gql_analytics.adapters.duckdb.writes import write_positions, write_rollup
from gql_analytics.domain.dimensions import Capped, Dimensions
from gql_analytics.domain.records import TASK_EVENT_NAMES, Event
from gql_analytics.domain.rollup import EVENT, METRIC, Rollup, SeriesKey
from gql_analytics.domain.tasks import fold_task_facts
from gql_analytics.domain.timerange import LEVELS
from gql_analytics.ports import StagedMessages, StagedResult

# Rows of a batch whose (kind, tenant, id) repeats, or is stored already: the first row per id
# is the one stored (inserts keep the first of the rows of one key, in ``seq`` order) and only the
# stored ones are rolled up.
DEDUPLICATED = """
CREATE OR REPLACE TEMP TABLE deduplicated AS
SELECT * EXCLUDE (ok) FROM __STAGED__ WHERE ok
QUALIFY row_number() OVER (PARTITION BY kind, tenant, id ORDER BY seq) = 1
"""

ALL_NEW = "CREATE OR REPLACE TEMP VIEW firsts AS SELECT * EXCLUDE (ok) FROM __STAGED__ WHERE ok"
ONLY_NEW = "CREATE OR REPLACE TEMP VIEW firsts AS SELECT * FROM deduplicated"

# Rows go in in ``seq`` order, so that of two rows of one id the first is stored. The staged table
# is in that order already (insertion order is kept) unless Python's records were appended to it.
INSERT_EVENTS = """
INSERT INTO events
SELECT tenant, id, name, user_id, occurred_at, $received, source, properties
FROM __STAGED__ WHERE ok AND kind = 'event' {order}
ON CONFLICT DO NOTHING
RETURNING tenant, id
"""

INSERT_POINTS = """
INSERT INTO metric_points
SELECT tenant, id, name, value, tags, occurred_at, $received
FROM __STAGED__ WHERE ok AND kind = 'metric' {order}
ON CONFLICT DO NOTHING
RETURNING tenant, id
"""

FRESH = """
CREATE OR REPLACE TEMP TABLE fresh AS
SELECT unnest(?::VARCHAR[]) AS kind, unnest(?::VARCHAR[]) AS tenant, unnest(?::VARCHAR[]) AS id
"""

KEEP_FRESH = """
DELETE FROM deduplicated d WHERE NOT EXISTS (SELECT 1 FROM fresh
    WHERE fresh.kind = d.kind AND fresh.tenant = d.tenant AND fresh.id = d.id);
"""

# Each new record with its values of its tenant's declared dimensions (``dims``, a JSON object),
# which with its name make its series.
PROJECTED = "CREATE OR REPLACE TEMP VIEW projected AS SELECT *, {dims} AS dims FROM firsts"
NEW_SERIES = "SELECT DISTINCT tenant, kind, name, dims FROM projected"

SERIES_KEYS = """
CREATE OR REPLACE TEMP TABLE series_keys AS
SELECT * FROM (SELECT unnest(?::VARCHAR[]) AS tenant, unnest(?::VARCHAR[]) AS kind,
    unnest(?::VARCHAR[]) AS name, unnest(?::VARCHAR[]) AS dims,
    unnest(?::BIGINT[]) AS series_id, unnest(?::VARCHAR[]) AS series_kind,
    unnest(?::VARCHAR[]) AS series_tags)
"""

KEYED = """
CREATE OR REPLACE TEMP TABLE keyed AS
SELECT k.series_id, k.series_kind, k.series_tags, f.tenant, f.kind, f.name, f.occurred_at,
    f.value, f.bin
FROM projected f JOIN series_keys k USING (tenant, kind, name, dims)
"""

UPSERT_SERIES = sql.upsert_series(
    """SELECT series_id, tenant, series_kind, name, series_tags::JSON, count(*), max(occurred_at)
    FROM keyed GROUP BY ALL"""
)


def _level_statements(level: timedelta) -> list[str]:
    bucket = f"date_trunc('{sql.LEVEL_NAMES[level]}', occurred_at)"
    return [
        sql.upsert_rollups(
            level,
            f"""SELECT series_id, {bucket}, count(*), coalesce(fsum(value), 0), min(value),
                max(value), coalesce(fsum(value * value), 0) FROM keyed GROUP BY ALL""",
        ),
        sql.upsert_bins(
            level,
            f"""SELECT series_id, {bucket}, bin, count(*) FROM keyed WHERE kind = 'metric'
                GROUP BY ALL""",
        ),
        sql.insert_presence(
            level,
            f"""SELECT DISTINCT tenant, {bucket}, user_id FROM firsts
                WHERE kind = 'event' AND user_id IS NOT NULL""",
        ),
    ]


# Per kind of record the batch holds: what rolls it up.
ROLLUP = {
    "any": [UPSERT_SERIES, *(_level_statements(level)[0] for level in LEVELS)],
    "metric": [_level_statements(level)[1] for level in LEVELS],
    "event": [_level_statements(level)[2] for level in LEVELS],
}

# New events as ``event_of`` reads them (received now, ``?``), in batch order.
NEW_EVENTS = f"""
SELECT {EVENT_COLUMNS} FROM (SELECT *, ?::TIMESTAMP AS received_at FROM firsts)
WHERE kind = 'event' {{names}} ORDER BY seq
"""
TASK_FACTS = NEW_EVENTS.format(names=f"AND name IN {TASK_NAMES}")
NEW_EVENTS = NEW_EVENTS.format(names="")


def apply(
    connection: duckdb.DuckDBPyConnection, prepared: StagedMessages, with_events: bool
) -> StagedResult:
    """Apply a staged batch inside the caller's transaction."""
    staged = prepared.state
    if not isinstance(staged, Staged):
        raise TypeError("a batch staged by another store")
    table, limits = staged.table, prepared.limits
    now = naive(limits.now)
    received = {"received": now}
    order = "ORDER BY seq" if staged.reordered else ""
    kinds = {kind for _, kind, _, _ in staged.series}
    new = []
    if "event" in kinds:
        new = connection.execute(on(INSERT_EVENTS, table).format(order=order), received).fetchall()
    new_events = len(new)
    if "metric" in kinds:
        new += connection.execute(on(INSERT_POINTS, table).format(order=order), received).fetchall()
    if len(new) == staged.accepted:
        connection.execute(on(ALL_NEW, table))
    else:
        connection.execute(on(DEDUPLICATED, table))
        new_kinds = ["event"] * new_events + ["metric"] * (len(new) - new_events)
        connection.execute(FRESH, [new_kinds, [t for t, _ in new], [i for _, i in new]])
        connection.execute(KEEP_FRESH)
        connection.execute(ONLY_NEW)
    capping = capped(connection, {tenant for tenant, _, _, _ in staged.series})
    connection.execute(PROJECTED.format(dims=dims_sql(capping.dimensions)))
    series = connection.execute(NEW_SERIES).fetchall() if new else []
    _roll_up(connection, series, now, capping)
    mark_overflowed(connection, capping.overflowed)
    write_positions(connection, prepared.batch.positions)
    events: tuple[Event, ...] = ()
    if with_events:
        rows = connection.execute(NEW_EVENTS, [naive(limits.now)]).fetchall()
        events = tuple(event_of(row) for row in rows)
    return StagedResult(
        applied=len(new),
        duplicates=staged.accepted - len(new),
        series=frozenset((tenant, kind, name) for tenant, kind, name, _ in series),
        events=events,
    )


def dims_sql(dimensions: Dimensions) -> str:
    """SQL giving a staged row's values of its tenant's declared dimensions, as
    ``Dimensions.project`` gives them: a JSON object of the keys it has (a missing or null
    value left out: a JSON merge patch drops keys whose value is null)."""
    cases = []
    for (tenant, kind), keys in dimensions.items():
        document = "properties" if kind == EVENT else "tags"
        pairs = ", ".join(f"{literal(key)}, {key_text_sql(document, key)}" for key in keys)
        cases.append(
            f"WHEN tenant = {literal(tenant)} AND kind = {literal(kind)} "
            f"THEN json_merge_patch('{{}}', json_object({pairs}))::VARCHAR"
        )
    return f"CASE {' '.join(cases)} ELSE '{{}}' END" if cases else "'{}'"


def _roll_up(
    connection: duckdb.DuckDBPyConnection,
    series: list[tuple[str, str, str, str]],
    received: datetime,
    capping: Capped,
) -> None:
    keys: list[tuple[str, str, str, str, SeriesKey]] = []
    for tenant, kind, name, dims in series:
        series_kind = EVENT if kind == "event" else METRIC
        values = capping.cap(tenant, series_kind, tuple(sorted(json.loads(dims).items())))
        keys.append((tenant, kind, name, dims, SeriesKey(tenant, series_kind, name, values)))
    if not keys:
        return
    connection.execute(
        SERIES_KEYS,
        [
            [k[0] for k in keys],
            [k[1] for k in keys],
            [k[2] for k in keys],
            [k[3] for k in keys],
            [k[4].id for k in keys],
            [k[4].kind for k in keys],
            [k[4].tags_json for k in keys],
        ],
    )
    connection.execute(KEYED)
    kinds = {kind for _, kind, _, _ in series}
    for statement in [*ROLLUP["any"], *(s for kind in sorted(kinds) for s in ROLLUP[kind])]:
        connection.execute(statement)
    if not TASK_EVENT_NAMES & {name for _, kind, name, _ in series if kind == "event"}:
        return
    rows = connection.execute(TASK_FACTS, [received]).fetchall()
    if facts := [event_of(row) for row in rows]:
        write_rollup(connection, Rollup(tasks=fold_task_facts(facts)))
