"""DuckDB's SQL path for raw messages has exactly the effect of the Python reference.

The same generated messages (every shape, every field in good and bad forms, duplicates, poison)
go through the ingest layer to a DuckDB store that stages them in SQL and to one that has them
decoded in Python;
rejections, counts and every table must come out equal.
"""

from __future__ import annotations

import json
import math
import sys
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.validation import Limits
from gql_analytics.ports import (
    Change,
    MessageBatch,
    MessagesResult,
    PartitionMessages,
)
from gql_analytics.services.ingest.messages import Decoded, Prepared, Staged
from tests.contract.ingest import message_ingest

NOW = datetime(2026, 11, 20, 12, 0, 30, tzinfo=UTC)
NOW_MS = int(NOW.timestamp() * 1000)


def maybe(key: str, strategy: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.one_of(st.just({}), strategy.map(lambda v: {key: v}))


def mostly(good: st.SearchStrategy[Any], odd: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    """``good`` nine times in ten: most messages stay plain enough for SQL to read them."""
    return st.integers(0, 9).flatmap(lambda n: odd if n == 0 else good)


names = st.sampled_from(
    ["view", "click", "task_created", "task_updated", "task_completed", "api_latency"]
)
odd_names = (
    st.sampled_from(["", "bad name", "x" * 121, "newline\n", "del\x7f", "é"]) | st.integers()
)
texts = st.sampled_from(["u1", "u2", "user-3", "ü", "x" * 200]) | st.integers(-5, 5)
odd_texts = st.sampled_from(
    ["", "x" * 201, "tab\there", "bell\x07", "del\x7f", True, 1.5, [1], {"a": 1}]
)
moments = st.integers(-60 * 24 * 40, 10).map(lambda m: NOW + timedelta(minutes=m, seconds=m % 7))
OFFSETS = {
    "Z": UTC,
    "+00:00": UTC,
    "": UTC,
    "+02:00": timezone(timedelta(hours=2)),
    "-05:30": timezone(-timedelta(hours=5, minutes=30)),
}
iso_times = st.tuples(
    moments,
    st.sampled_from(sorted(OFFSETS)),
    st.sampled_from(["seconds", "milliseconds", "microseconds"]),
).map(lambda t: t[0].astimezone(OFFSETS[t[1]]).replace(tzinfo=None).isoformat(timespec=t[2]) + t[1])
times = mostly(
    iso_times
    | moments.map(lambda m: m.timestamp())
    | moments.map(lambda m: int(m.timestamp() * 1000))
    | moments.map(lambda m: m.timestamp() * 1000)
    | moments.map(lambda m: int(m.timestamp())),
    st.sampled_from(
        ["yesterday", "2026-02-30T00:00:00Z", "2026-11-20T25:00:00Z", "2026-11-20", -5, None]
    ),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=6,
)
values = mostly(
    st.floats(-1e15, 1e15) | st.integers(-(10**15), 10**15),
    st.floats(allow_nan=False, allow_infinity=False)
    | st.integers(-(10**20), 10**20)
    | st.sampled_from([1e-12, 5e-10, 1e16, -1e300, True, "12"]),
)
tag_sets = mostly(
    st.dictionaries(st.sampled_from(["region", "host"]), st.sampled_from(["eu", "us", "ü"])),
    st.dictionaries(st.sampled_from(["bad key", "x"]), st.sampled_from(["x" * 201, "\n"]))
    | st.sampled_from([None, [], {"n": 1}]),
)


@st.composite
def message(draw: st.DrawFn) -> bytes:
    common: dict[str, Any] = {}
    id_key = draw(st.sampled_from(["id", "event_id", "eventId"]))
    common |= draw(
        maybe(id_key, mostly(st.sampled_from(["e1", "e2", "e3", "m1"]) | texts, odd_texts))
    )
    time_key = draw(st.sampled_from(["timestamp", "occurredAt", "occurred_at"]))
    common |= draw(maybe(time_key, times))
    common |= draw(maybe("tenantId", st.sampled_from(["acme", None, ""])))
    name = draw(names | odd_names) if draw(st.integers(0, 9)) == 0 else draw(names)
    task = draw(maybe("task_id", st.sampled_from(["t1", "t2", None, 7])))
    task |= draw(maybe("status", st.sampled_from(["done", "Open", "completed", 3, None])))
    properties = draw(st.dictionaries(st.text(max_size=5), json_values, max_size=3)) | task
    shape = draw(
        mostly(st.sampled_from(["flat", "envelope", "named", "metric"]), st.just("poison"))
    )
    if shape == "flat":
        payload: dict[str, Any] = {
            "event": name,
            **draw(maybe("user_id", mostly(texts, odd_texts))),
        }
        payload = {**properties, **payload, **common}
    elif shape == "envelope":
        body = properties | draw(maybe("userId", texts)) | draw(maybe("user_id", texts))
        payload = {
            "eventType": name,
            "payload": draw(mostly(st.just(body), st.sampled_from([None, [1]]))),
        }
        payload |= draw(maybe("userId", texts | st.none()))
        payload |= draw(maybe("source", mostly(texts, odd_texts)))
        payload |= common
    elif shape == "named":
        payload = {
            "event_name": name,
            "properties": draw(mostly(st.just(properties), st.sampled_from([None, "x"]))),
        }
        payload |= draw(maybe("user_id", texts)) | common
    elif shape == "metric":
        payload = {"metric_name": name, **common, **draw(maybe("value", values))}
        payload |= draw(maybe("tags", tag_sets))
    else:
        return draw(
            st.sampled_from(
                [
                    b"not json",
                    b"",
                    b"[1, 2]",
                    b'{"event": "view",}',
                    b'{"metric_name": "m", "value": NaN}',
                    b'{"metric_name": "m", "value": Infinity}',
                    b'{"event": "view", "event": "click"}',
                    b'{"something": "else"}',
                    b"\xff\xfe",
                    b'{"event": "view", "note": "\\ud800"}',
                    b'{"event": "view", "x": 1e400}',
                    b'{"event_name": "view", "timestamp": 1e30}',
                ]
            )
        )
    return json.dumps(payload, ensure_ascii=draw(mostly(st.just(False), st.just(True)))).encode()


batches = st.lists(st.lists(message(), min_size=1, max_size=12), min_size=1, max_size=3)


def batch_of(partitions: list[list[bytes]]) -> MessageBatch:
    return MessageBatch(
        [
            PartitionMessages(
                topic="t",
                partition=p,
                offsets=list(range(10, 10 + (p + 1) * len(values), p + 1)),  # gaps after p 0
                timestamps=[NOW_MS - 1000 * i for i in range(len(values))],
                values=values,
            )
            for p, values in enumerate(partitions)
        ]
    )


async def prepare_and_apply(
    store: DuckDBStore, batch: MessageBatch, limits: Limits
) -> tuple[Prepared, MessagesResult, list[Change]]:
    """The batch through the ingest layer: staged in SQL by a store that stages every batch,
    decoded in Python by one that stages none."""
    ingest, bus = message_ingest(store, limits.now, limits.retention)
    prepared = await ingest.prepare(batch)
    return prepared, await ingest.apply(prepared), bus.published


TABLES = {
    "events": "SELECT tenant, id, name, user_id, occurred_at, received_at, source, properties FROM events",
    "metric_points": "SELECT tenant, id, name, value, tags, occurred_at FROM metric_points",
    "series": "SELECT series_id, tenant, kind, name, tags, count, last_seen FROM series",
    "rollups_minute": "SELECT * FROM rollups_minute",
    "rollups_hour": "SELECT * FROM rollups_hour",
    "bins_minute": "SELECT * FROM bins_minute",
    "bins_hour": "SELECT * FROM bins_hour",
    "presence_minute": "SELECT * FROM presence_minute",
    "presence_hour": "SELECT * FROM presence_hour",
    "tasks": "SELECT * FROM tasks",
    "source_positions": "SELECT * FROM source_positions",
}


def contents(store: DuckDBStore) -> dict[str, list[tuple[Any, ...]]]:
    tables = {}
    for table, query in TABLES.items():
        rows = []
        for row in store.rows(query, []):
            cells = tuple(json.loads(c) if isinstance(c, str) and c[:1] in "{[" else c for c in row)
            rows.append(cells)
        tables[table] = sorted(rows, key=repr)
    return tables


def same(a: object, b: object) -> bool:
    """Equal, floats to within rounding (sums are added in different orders)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-300)
    if isinstance(a, tuple | list) and isinstance(b, tuple | list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return a == b


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    partitions=batches,
    retention=st.sampled_from([None, timedelta(days=30)]),
    repeat=st.booleans(),
    declared=st.booleans(),
)
async def test_sql_path_has_the_effect_of_the_python_reference(
    partitions: list[list[bytes]], retention: timedelta | None, repeat: bool, declared: bool
) -> None:
    limits = Limits(NOW, retention)
    sql_store, reference_store = DuckDBStore(sql_from=0), DuckDBStore(sql_from=sys.maxsize)
    if declared:  # series split by declared dimensions, the same way on both paths
        for store in (sql_store, reference_store):
            for tenant in ("default", "acme"):
                await store.declare_dimensions(tenant, EVENT, ["status", "task_id"], NOW)
                await store.declare_dimensions(tenant, METRIC, ["region", "host"], NOW)
    try:
        for _ in range(2 if repeat else 1):  # a second delivery: everything is a duplicate
            batch = batch_of(partitions)
            sql_prepared, sql_result, sql_changes = await prepare_and_apply(
                sql_store, batch, limits
            )
            ref_prepared, ref_result, ref_changes = await prepare_and_apply(
                reference_store, batch, limits
            )
            assert isinstance(sql_prepared, Staged)
            assert isinstance(ref_prepared, Decoded)
            assert sorted(sql_prepared.rejected, key=repr) == sorted(
                ref_prepared.rejected, key=repr
            )
            assert (sql_result.applied, sql_result.duplicates) == (
                ref_result.applied,
                ref_result.duplicates,
            )
            assert {c.tenant: (c.event_names, c.metric_names) for c in sql_changes} == {
                c.tenant: (c.event_names, c.metric_names) for c in ref_changes
            }
            assert {c.tenant: c.events for c in sql_changes} == {
                c.tenant: c.events for c in ref_changes
            }
        sql_tables, ref_tables = contents(sql_store), contents(reference_store)
        for table in TABLES:
            assert same(sql_tables[table], ref_tables[table]), (
                table,
                sql_tables[table],
                ref_tables[table],
            )
    finally:
        await sql_store.close()
        await reference_store.close()
