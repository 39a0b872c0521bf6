"""Kafka batches decoded, deduplicated and rolled up inside DuckDB (``DuckDBStore``'s
``stage_messages`` and ``apply_staged``: the ``MessageStager`` capability).

Per record, Python costs ~50 µs from message to rollup (decoding, validation, rollup, column
lists); DuckDB does the same work column-wise for a few µs. So a batch goes in as raw text and
SQL does the rest, in two steps that run side by side for consecutive batches:

1. ``stage``, on a cursor of its own, writing only to an in-memory scratch database: ``STAGE``
   parses every message once and decides, per message, whether it is *plain*: a JSON object of
   one known shape whose fields are all of the types and forms that SQL reads exactly as
   ``normalize`` would (ISO-8601 or epoch times, string or integer ids, short messages, no
   ``NaN``...). Plain messages become canonical rows of the batch's staged table. Every other
   message is decoded in Python by ``upstream.decode``, the reference: its record joins the
   table, or its rejection is returned (for the dead-letter topic).
2. ``apply``, in the writer's transaction: the first row of each (kind, tenant, id) is inserted
   into the raw tables; the rows that were new (``RETURNING``) are rolled up by SQL into series,
   buckets, bins and presence, with series ids computed in Python once per distinct series. Task
   facts, few and order-sensitive, are folded in Python by ``fold_task_facts``.

Whatever SQL finds plain, it reads exactly as Python would: ``tests/contract`` feeds the same
generated messages to this path and to the Python one (``services.ingest.messages``) and
compares every table.
"""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import duckdb

from gql_analytics.adapters.duckdb import schema as sql
from gql_analytics.adapters.duckdb.values import EVENT_COLUMNS, event_of, naive, to_json
from gql_analytics.adapters.duckdb.writes import write_positions, write_rollup
from gql_analytics.domain import sketch
from gql_analytics.domain.records import TASK_EVENT_NAMES, Event, Record
from gql_analytics.domain.rollup import EVENT, METRIC, METRIC_TOTAL, Rollup, SeriesKey
from gql_analytics.domain.tasks import fold_task_facts
from gql_analytics.domain.timerange import LEVELS
from gql_analytics.domain.upstream import decode
from gql_analytics.domain.validation import MAX_TAGS, MAX_TEXT, MAX_VALUE, Limits
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    MessageBatch,
    MessageKey,
    PartitionMessages,
    Rejection,
    StagedMessages,
    StagedResult,
)

# Messages longer than this go to Python: below it, properties are surely under the 32 KB limit
# (re-encoded, a character takes at most three times its bytes, a number at most 4.5 times:
# ``1e15`` becomes ``1000000000000000.0``).
MAX_PLAIN_BYTES = 7_000
# Texts that DuckDB's JSON reader takes and Python's does not (or reads otherwise) are not plain:
# bare NaN/Infinity, trailing commas, escaped surrogates, exponents that may overflow to infinity.
# Nor are texts that may hold a control character in a string (escaped, or a raw DEL; JSON allows
# no other raw one), so that no string read from a plain message needs checking for them.
SUSPICIOUS = (
    r"(?i)[:,\[]\s*[-+]?(nan|inf)|,\s*[}\]]|\\ud[89a-f]|\de[-+]?\d{3}"
    r"|\\[bfnrt]|\\u00[01]|\\u007f|\x7f"
)
ISO_TIME = (
    r"\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:[0-5]\d(\.\d{1,6})?"
    r"(Z|[+-]([01]\d|2[0-3]):[0-5]\d)?"
)
NAME = r"[A-Za-z0-9_.:\-]{1,120}"
FLAT_RESERVED = (
    "event",
    "user_id",
    "source",
    "tenantId",
    "id",
    "event_id",
    "eventId",
    "timestamp",
    "occurredAt",
    "occurred_at",
)

# The top-level fields STAGE reads, by their index in its lists (SQL lists count from 1).
FIELDS = (
    "metric_name",  # 1-4: the shape is the first of these present
    "eventType",
    "event_name",
    "event",
    "id",  # 5-7: the id is the first of these not null
    "event_id",
    "eventId",
    "timestamp",  # 8-10: the time likewise
    "occurredAt",
    "occurred_at",
    "tenantId",  # 11
    "user_id",  # 12
    "userId",  # 13
    "source",  # 14
    "value",  # 15
    "tags",  # 16
    "payload",  # 17
    "properties",  # 18
    "payload.userId",  # 19
    "payload.user_id",  # 20
)
_PATHS = "[" + ", ".join(f"'$.{field}'" for field in FIELDS) + "]"

MACROS = f"""
-- validation.text on a JSON value given as its type and its text: a string of 1-{MAX_TEXT}
-- characters (printable ones: SUSPICIOUS sends the messages that may hold others to Python),
-- or an integer as its digits
CREATE OR REPLACE TEMP MACRO jtext(t, s) AS CASE t
    WHEN 'VARCHAR' THEN CASE WHEN length(s) BETWEEN 1 AND {MAX_TEXT} THEN s END
    WHEN 'BIGINT' THEN s WHEN 'UBIGINT' THEN s END;
-- a message's id when it has none: topic:partition:offset@timestamp (the batch's partitions
-- are contiguous runs of seq, starting at $starts)
CREATE OR REPLACE TEMP MACRO segment(seq, starts) AS len(list_filter(starts, lambda x: x <= seq));
CREATE OR REPLACE TEMP MACRO default_id(seq, ts, topics, partitions, starts, first_offsets,
        offsets) AS
    topics[segment(seq, starts)] || ':' || partitions[segment(seq, starts)] || ':' ||
    CASE WHEN len(offsets) = 0
        THEN first_offsets[segment(seq, starts)] + seq - starts[segment(seq, starts)]
        ELSE offsets[seq + 1] END || '@' || ts;
-- absent, JSON null, or a good text
CREATE OR REPLACE TEMP MACRO text_or_none(t, s) AS t IS NULL OR t = 'NULL'
    OR jtext(t, s) IS NOT NULL;
CREATE OR REPLACE TEMP MACRO iso_time(t) AS CASE WHEN regexp_full_match(t, '{ISO_TIME}') THEN
    CASE WHEN regexp_matches(t, '(Z|[+-]\\d\\d:\\d\\d)$')
        THEN make_timestamp(epoch_us(try_cast(t AS TIMESTAMPTZ)))
        ELSE try_cast(t AS TIMESTAMP) END END;
-- normalize._timestamp on a non-negative epoch number (above 1e11: milliseconds), rounded to the
-- microsecond as datetime.fromtimestamp rounds: whole seconds, then the fraction half-to-even.
CREATE OR REPLACE TEMP MACRO seconds(x) AS CASE WHEN x > 1e11 THEN x / 1000 ELSE x END;
CREATE OR REPLACE TEMP MACRO epoch_time(x) AS CASE WHEN x >= 0 AND x < 1e15 THEN
    make_timestamp(trunc(seconds(x))::BIGINT * 1000000
        + round_even((seconds(x) - trunc(seconds(x))) * 1e6, 0)::BIGINT) END;
CREATE OR REPLACE TEMP MACRO plain_tags(tags) AS tags IS NULL OR (json_type(tags) = 'OBJECT'
    AND len(json_keys(tags)) <= {MAX_TAGS}
    AND len(json_keys(tags)) = len(list_distinct(json_keys(tags)))
    AND coalesce(list_bool_and(list_transform(json_keys(tags),
        lambda k: regexp_full_match(k, '{NAME}'))), true)
    AND coalesce(list_bool_and(list_transform(json_extract(tags, '$.*'),
        lambda v: json_type(v) = 'VARCHAR' AND length(v->>'$') <= {MAX_TEXT})), true));
-- a task event's task id: properties.get("task_id", properties.get("taskId")) is not None
CREATE OR REPLACE TEMP MACRO has_task_id(tt) AS
    CASE WHEN tt[1] IS NOT NULL THEN tt[1] <> 'NULL' ELSE coalesce(tt[2] <> 'NULL', false) END;
"""

_FLAT_DROP = json.dumps(dict.fromkeys(FLAT_RESERVED))
_TASK_NAMES = tuple(sorted(TASK_EVENT_NAMES))

# One parse per message for the types of the fields, one for their texts, one for the objects.
STAGE = f"""
CREATE OR REPLACE TABLE __STAGED__ AS
WITH raw AS (
    -- one string for the whole batch: far cheaper to hand over than a list of strings
    SELECT unnest(string_split($texts, chr(30))) AS text, unnest(range($count)) AS seq,
        unnest($timestamps::BIGINT[]) AS ts
), parsed AS (
    SELECT seq, ts, CASE WHEN strlen(text) <= {MAX_PLAIN_BYTES}
        AND NOT regexp_matches(text, $suspicious) THEN try_cast(text AS JSON) END AS j
    FROM raw
), fields AS (
    SELECT seq, ts, j, json_keys(j) AS keys, json_type(j, {_PATHS}) AS t,
        json_extract_string(j, {_PATHS}) AS s,
        json_extract(j, ['$.tags', '$.payload', '$.properties']) AS o
    FROM parsed
), indexed AS (
    SELECT *,
        CASE WHEN t[1] IS NOT NULL THEN 1 WHEN t[2] IS NOT NULL THEN 2
            WHEN t[3] IS NOT NULL THEN 3 WHEN t[4] IS NOT NULL THEN 4 END AS shape,
        CASE WHEN t[5] <> 'NULL' THEN 5 WHEN t[6] <> 'NULL' THEN 6
            WHEN t[7] <> 'NULL' THEN 7 END AS id_at,
        CASE WHEN t[8] <> 'NULL' THEN 8 WHEN t[9] <> 'NULL' THEN 9
            WHEN t[10] <> 'NULL' THEN 10 END AS time_at
    FROM fields
), records AS (
    SELECT seq, keys, shape, t, s, o,
        CASE WHEN t[shape] = 'VARCHAR' THEN s[shape] END AS name,
        CASE shape WHEN 1 THEN NULL WHEN 2 THEN (CASE WHEN t[13] IS NOT NULL THEN 13
            WHEN t[19] IS NOT NULL THEN 19 ELSE 20 END) ELSE 12 END AS user_at,
        id_at IS NULL OR jtext(t[id_at], s[id_at]) IS NOT NULL AS good_id,
        coalesce(jtext(t[id_at], s[id_at]), default_id(seq, ts, $topics::VARCHAR[],
            $partitions::INTEGER[], $starts::INTEGER[], $first_offsets::BIGINT[],
            $offsets::BIGINT[])) AS id,
        coalesce(jtext(t[11], s[11]), $tenant) AS tenant,
        CASE WHEN time_at IS NULL THEN CASE WHEN ts >= 0 THEN make_timestamp(ts * 1000) END
            WHEN t[time_at] = 'VARCHAR' THEN iso_time(s[time_at])
            WHEN t[time_at] IN ('BIGINT', 'UBIGINT', 'DOUBLE')
                THEN epoch_time(s[time_at]::DOUBLE) END AS occurred_at,
        CASE shape WHEN 2 THEN coalesce(nullif(o[2], 'null'), '{{}}')
            WHEN 3 THEN coalesce(nullif(o[3], 'null'), '{{}}')
            WHEN 4 THEN json_merge_patch(j, '{_FLAT_DROP}') END AS properties,
        CASE WHEN t[15] IN ('BIGINT', 'UBIGINT', 'DOUBLE') THEN s[15]::DOUBLE END AS value
    FROM indexed
)
SELECT seq, CASE WHEN shape = 1 THEN 'metric' ELSE 'event' END AS kind,
    tenant, id, name, CASE WHEN shape <> 1 THEN jtext(t[user_at], s[user_at]) END AS user_id,
    occurred_at, CASE WHEN shape <> 1 THEN jtext(t[14], s[14]) END AS source,
    properties::JSON AS properties, value, coalesce(nullif(o[1], 'null'), '{{}}')::JSON AS tags,
    CASE WHEN abs(value) < $min_magnitude THEN 0
        ELSE sign(value)::INTEGER * ($bin_offset + least(ceil(ln(abs(value)) / $log_gamma),
            $max_key)::INTEGER) END AS bin,
    (shape IS NOT NULL
    AND len(keys) = len(list_distinct(keys))
    AND regexp_full_match(name, '{NAME}')
    AND good_id
    AND text_or_none(t[11], s[11])
    AND occurred_at <= $latest
    AND ($earliest IS NULL OR occurred_at >= $earliest)
    AND CASE WHEN shape = 1 THEN abs(value) <= {MAX_VALUE} AND plain_tags(nullif(o[1], 'null'))
        ELSE text_or_none(t[user_at], s[user_at]) AND text_or_none(t[14], s[14])
            AND CASE shape WHEN 2 THEN coalesce(t[17] IN ('NULL', 'OBJECT'), true)
                WHEN 3 THEN coalesce(t[18] IN ('NULL', 'OBJECT'), true) ELSE true END
            AND (name NOT IN {_TASK_NAMES}
                OR has_task_id(json_type(properties, ['$.task_id', '$.taskId'])))
        END) IS TRUE AS ok
FROM records
"""

NOT_PLAIN = "SELECT seq FROM __STAGED__ WHERE NOT ok"


ADD_DECODED = """
INSERT INTO __STAGED__ (seq, kind, tenant, id, name, user_id, occurred_at, source, properties, value,
    tags, bin, ok)
SELECT *, true FROM (SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]),
    unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON, unnest(?::DOUBLE[]),
    unnest(?::VARCHAR[])::JSON, unnest(?::INTEGER[]))
"""

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

DISTINCT_SERIES = "SELECT DISTINCT tenant, kind, name, tags FROM __STAGED__ WHERE ok"
NEW_SERIES = "SELECT DISTINCT tenant, kind, name, tags FROM firsts"

SERIES_KEYS = """
CREATE OR REPLACE TEMP TABLE series_keys AS
SELECT * FROM (SELECT unnest(?::VARCHAR[]) AS tenant, unnest(?::VARCHAR[]) AS kind,
    unnest(?::VARCHAR[]) AS name, unnest(?::VARCHAR[]) AS tags,
    unnest(?::BIGINT[]) AS series_id, unnest(?::VARCHAR[]) AS series_kind,
    unnest(?::VARCHAR[]) AS series_tags)
"""

KEYED = """
CREATE OR REPLACE TEMP TABLE keyed AS
SELECT k.series_id, k.series_kind, k.series_tags, f.tenant, f.kind, f.name, f.occurred_at,
    f.value, f.bin
FROM firsts f JOIN series_keys k USING (tenant, kind, name, tags)
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
TASK_FACTS = NEW_EVENTS.format(names=f"AND name IN {_TASK_NAMES}")
NEW_EVENTS = NEW_EVENTS.format(names="")


@dataclass(frozen=True, slots=True)
class Staged:
    """A prepared batch as DuckDB holds it: the table of its rows (in the scratch database) and
    how many of them are records."""

    table: str
    accepted: int
    reordered: bool  # Python's records were appended after SQL's
    series: list[tuple[str, str, str, str]]  # (tenant, kind, name, tags) of its records


def stage(
    connection: duckdb.DuckDBPyConnection, table: str, batch: MessageBatch, limits: Limits
) -> StagedMessages:
    """Stage a batch into ``table`` (a table of the scratch database: nothing durable is written,
    so this runs beside the writer's transaction)."""
    messages = _stage(connection, batch, limits, table)
    not_plain = [seq for (seq,) in connection.execute(_on(NOT_PLAIN, table)).fetchall()]
    decoded, rejected = _decode(messages, not_plain, limits, batch.tenant)
    _add_decoded(connection, table, decoded)
    accepted = messages.count - len(not_plain) + len(decoded)
    series = connection.execute(_on(DISTINCT_SERIES, table)).fetchall()
    staged = Staged(table, accepted, bool(decoded), series)
    return StagedMessages(batch, limits, tuple(rejected), staged)


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
        new = connection.execute(_on(INSERT_EVENTS, table).format(order=order), received).fetchall()
    new_events = len(new)
    if "metric" in kinds:
        new += connection.execute(
            _on(INSERT_POINTS, table).format(order=order), received
        ).fetchall()
    series = staged.series
    if len(new) == staged.accepted:
        connection.execute(_on(ALL_NEW, table))
    else:
        connection.execute(_on(DEDUPLICATED, table))
        new_kinds = ["event"] * new_events + ["metric"] * (len(new) - new_events)
        connection.execute(FRESH, [new_kinds, [t for t, _ in new], [i for _, i in new]])
        connection.execute(KEEP_FRESH)
        connection.execute(ONLY_NEW)
        series = connection.execute(NEW_SERIES).fetchall()
    _roll_up(connection, series, now)
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


def _on(statement: str, table: str) -> str:
    return statement.replace("__STAGED__", table)


SEPARATOR = b"\x1e"  # ASCII record separator: never in a JSON text, raw


@dataclass(frozen=True, slots=True)
class _Messages:
    """A batch's messages as STAGE numbered them (``seq``), partition after partition."""

    parts: list[PartitionMessages]
    starts: list[int]  # the seq of each partition's first message
    count: int

    def locate(self, seq: int) -> tuple[MessageKey, int, bytes | None]:
        """The key, timestamp and value of a message."""
        part_at = bisect.bisect_right(self.starts, seq) - 1
        part, index = self.parts[part_at], seq - self.starts[part_at]
        return (
            (part.topic, part.partition, part.offsets[index]),
            part.timestamps[index],
            part.values[index],
        )


def _stage(
    connection: duckdb.DuckDBPyConnection, batch: MessageBatch, limits: Limits, table: str
) -> _Messages:
    parts = [part for part in batch.partitions if part.offsets]
    starts = list(itertools.accumulate((len(part.offsets) for part in parts[:-1]), initial=0))
    messages = _Messages(parts, starts, sum(len(part.offsets) for part in parts))
    dense = all(p.offsets[-1] - p.offsets[0] == len(p.offsets) - 1 for p in parts)
    earliest = None if limits.retention is None else naive(limits.now - limits.retention)
    connection.execute(
        _on(STAGE, table),
        {
            "texts": _texts([value for part in parts for value in part.values]),
            "count": messages.count,
            "timestamps": [ts for part in parts for ts in part.timestamps],
            "topics": [part.topic for part in parts],
            "partitions": [part.partition for part in parts],
            "starts": starts,
            "first_offsets": [part.offsets[0] for part in parts],
            "offsets": [] if dense else [offset for part in parts for offset in part.offsets],
            "suspicious": SUSPICIOUS,
            "tenant": batch.tenant,
            "latest": naive(limits.now + timedelta(minutes=5)),
            "earliest": earliest,
            "min_magnitude": sketch.MIN_MAGNITUDE,
            "bin_offset": sketch.OFFSET,
            "log_gamma": sketch.LOG_GAMMA,
            "max_key": sketch.MAX_KEY,
        },
    )
    return messages


def _texts(values: list[bytes | None]) -> str:
    """The batch as one string, messages separated by ``SEPARATOR``. A message that is no UTF-8,
    or holds the separator, is left empty here (never plain), and Python decodes it."""
    joined = SEPARATOR.join(value or b"" for value in values)
    if joined.count(SEPARATOR) == len(values) - 1:
        try:
            return joined.decode()
        except UnicodeDecodeError:
            pass
    return SEPARATOR.decode().join(map(_text, values))


def _text(value: bytes | None) -> str:
    if not value or SEPARATOR in value:
        return ""
    try:
        return value.decode()
    except UnicodeDecodeError:
        return ""


def _decode(
    messages: _Messages, not_plain: list[int], limits: Limits, tenant: str
) -> tuple[list[tuple[int, Record]], list[Rejection]]:
    """The records of the messages SQL found not plain, decoded by Python, and the rejections
    among them."""
    decoded: list[tuple[int, Record]] = []
    rejected: list[Rejection] = []
    for seq in not_plain:
        key, timestamp, value = messages.locate(seq)
        try:
            decoded.append((seq, decode(value, key, timestamp, limits, tenant)))
        except InvalidRecord as error:
            rejected.append(Rejection(key, error.reason, error.message))
    return decoded, rejected


def _add_decoded(
    connection: duckdb.DuckDBPyConnection, table: str, decoded: Sequence[tuple[int, Record]]
) -> None:
    if not decoded:
        return
    rows: list[tuple[Any, ...]] = []
    for seq, record in decoded:
        if isinstance(record, Event):
            rows.append(
                (
                    seq,
                    "event",
                    record.tenant,
                    record.id,
                    record.name,
                    record.user_id,
                    naive(record.occurred_at),
                    record.source,
                    to_json(record.properties),
                    None,
                    "{}",
                    None,
                )
            )
        else:
            rows.append(
                (
                    seq,
                    "metric",
                    record.tenant,
                    record.id,
                    record.name,
                    None,
                    naive(record.occurred_at),
                    None,
                    "{}",
                    record.value,
                    to_json(record.tags),
                    sketch.bin_of(record.value),
                )
            )
    connection.execute(
        _on(ADD_DECODED, table), [list(column) for column in zip(*rows, strict=True)]
    )


def _roll_up(
    connection: duckdb.DuckDBPyConnection,
    series: list[tuple[str, str, str, str]],
    received: datetime,
) -> None:
    keys: list[tuple[str, str, str, str, SeriesKey]] = []
    for tenant, kind, name, tags in series:
        if kind == "event":
            keys.append((tenant, kind, name, tags, SeriesKey(tenant, EVENT, name)))
            continue
        tag_items = tuple(sorted(json.loads(tags).items()))
        keys.append((tenant, kind, name, tags, SeriesKey(tenant, METRIC, name, tag_items)))
        keys.append((tenant, kind, name, tags, SeriesKey(tenant, METRIC_TOTAL, name)))
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
