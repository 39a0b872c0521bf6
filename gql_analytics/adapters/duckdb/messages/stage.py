"""A batch of raw messages staged in the scratch database, nothing durable written: the
staging query (``sql/stage.sql``) reads the plain messages, Python decodes the others
(``upstream.decode``), and the batch's rejections are known before anything is applied."""

from __future__ import annotations

import bisect
import itertools
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from importlib import resources
from typing import Any

import duckdb

from gql_analytics.adapters.duckdb.values import naive, to_json
from gql_analytics.domain import sketch
from gql_analytics.domain.records import TASK_EVENT_NAMES, Event, Record
from gql_analytics.domain.upstream import decode
from gql_analytics.domain.validation import MAX_TAGS, MAX_TEXT, MAX_VALUE, Limits
from gql_analytics.errors import InvalidRecord
from gql_analytics.ports import (
    MessageBatch,
    MessageKey,
    PartitionMessages,
    Rejection,
    StagedMessages,
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

TASK_NAMES = tuple(sorted(TASK_EVENT_NAMES))


def _statement(file: str, **values: object) -> str:
    """A statement of the package's ``sql/`` folder, its ``{placeholders}`` filled in with
    ``values`` (``str.format``: ``{{`` and ``}}`` are literal braces)."""
    folder = resources.files("gql_analytics.adapters.duckdb.messages") / "sql"
    text = (folder / file).read_text(encoding="utf-8")
    return text.format(**values)


# Created on each preparing cursor (``DuckDBStore``), for STAGE.
MACROS = _statement(
    "macros.sql", max_text=MAX_TEXT, iso_time=ISO_TIME, max_tags=MAX_TAGS, name_pattern=NAME
)

# One parse per message for the types of the fields, one for their texts, one for the objects.
STAGE = _statement(
    "stage.sql",
    max_plain_bytes=MAX_PLAIN_BYTES,
    paths=_PATHS,
    flat_drop=json.dumps(dict.fromkeys(FLAT_RESERVED)),
    name_pattern=NAME,
    max_value=MAX_VALUE,
    task_names=TASK_NAMES,
)


NOT_PLAIN = "SELECT seq FROM __STAGED__ WHERE NOT ok"


ADD_DECODED = """
INSERT INTO __STAGED__ (seq, kind, tenant, id, name, user_id, occurred_at, source, properties, value,
    tags, bin, ok)
SELECT *, true FROM (SELECT unnest(?::INTEGER[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]),
    unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON, unnest(?::DOUBLE[]),
    unnest(?::VARCHAR[])::JSON, unnest(?::INTEGER[]))
"""

DISTINCT_SERIES = "SELECT DISTINCT tenant, kind, name, tags FROM __STAGED__ WHERE ok"


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
    not_plain = [seq for (seq,) in connection.execute(on(NOT_PLAIN, table)).fetchall()]
    decoded, rejected = _decode(messages, not_plain, limits, batch.tenant)
    _add_decoded(connection, table, decoded)
    accepted = messages.count - len(not_plain) + len(decoded)
    series = connection.execute(on(DISTINCT_SERIES, table)).fetchall()
    staged = Staged(table, accepted, bool(decoded), series)
    return StagedMessages(batch, limits, tuple(rejected), staged)


def on(statement: str, table: str) -> str:
    """A statement of the staged table ``table`` (its SQL says ``__STAGED__``)."""
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
        on(STAGE, table),
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
    connection.execute(on(ADD_DECODED, table), [list(column) for column in zip(*rows, strict=True)])
