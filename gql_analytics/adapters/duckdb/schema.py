"""Tables of the DuckDB store. Timestamps are naive UTC.

Each rollup level has tables of its own (``rollups_minute``, ``rollups_hour``, ...), so a query
served from hour rollups never scans minute rows, and rows of one table arrive in time order,
which keeps DuckDB's per-row-group min/max indexes on ``bucket_start`` sharp.
"""

from datetime import timedelta

from gql_analytics.domain.timerange import HOUR, LEVELS, MINUTE

LEVEL_NAMES = {MINUTE: "minute", HOUR: "hour"}
assert set(LEVEL_NAMES) == set(LEVELS), "every rollup level needs its tables"


def level_tables(level: timedelta) -> str:
    suffix = LEVEL_NAMES[level]
    return f"""
CREATE TABLE IF NOT EXISTS rollups_{suffix} (
    series_id BIGINT NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    count BIGINT NOT NULL,
    total DOUBLE NOT NULL,
    low DOUBLE,
    high DOUBLE,
    sum_squares DOUBLE NOT NULL,
    PRIMARY KEY (series_id, bucket_start)
);
CREATE TABLE IF NOT EXISTS bins_{suffix} (
    series_id BIGINT NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    bin INTEGER NOT NULL,
    n BIGINT NOT NULL,
    PRIMARY KEY (series_id, bucket_start, bin)
);
CREATE TABLE IF NOT EXISTS presence_{suffix} (
    tenant VARCHAR NOT NULL,
    bucket_start TIMESTAMP NOT NULL,
    user_id VARCHAR NOT NULL,
    PRIMARY KEY (tenant, bucket_start, user_id)
);
"""


SCHEMA = (
    "".join(level_tables(level) for level in LEVELS)
    + """
CREATE TABLE IF NOT EXISTS events (
    tenant VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    user_id VARCHAR,
    occurred_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    source VARCHAR,
    properties JSON NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS metric_points (
    tenant VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    value DOUBLE NOT NULL,
    tags JSON NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    received_at TIMESTAMP NOT NULL,
    PRIMARY KEY (tenant, id)
);
CREATE TABLE IF NOT EXISTS series (
    series_id BIGINT PRIMARY KEY,
    tenant VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    name VARCHAR NOT NULL,
    tags JSON NOT NULL,
    count BIGINT NOT NULL,
    last_seen TIMESTAMP
);
CREATE TABLE IF NOT EXISTS tasks (
    tenant VARCHAR NOT NULL,
    task_id VARCHAR NOT NULL,
    user_id VARCHAR,
    created_at TIMESTAMP,
    completed_at TIMESTAMP,
    status VARCHAR,
    status_at TIMESTAMP,
    PRIMARY KEY (tenant, task_id)
);
CREATE TABLE IF NOT EXISTS source_positions (
    source VARCHAR NOT NULL,
    partition INTEGER NOT NULL,
    next_offset BIGINT NOT NULL,
    PRIMARY KEY (source, partition)
);
CREATE TABLE IF NOT EXISTS api_keys (
    id VARCHAR PRIMARY KEY,
    tenant VARCHAR NOT NULL,
    role VARCHAR NOT NULL,
    secret_hash VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    name VARCHAR,
    revoked_at TIMESTAMP
);
CREATE TABLE IF NOT EXISTS analysis_jobs (
    tenant VARCHAR NOT NULL,
    id VARCHAR NOT NULL,
    operation VARCHAR NOT NULL,
    state VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL,
    request JSON NOT NULL,
    progress DOUBLE NOT NULL,
    finished_at TIMESTAMP,
    error VARCHAR,
    result JSON,
    updated_at TIMESTAMP,
    PRIMARY KEY (tenant, id)
);
ALTER TABLE analysis_jobs ADD COLUMN IF NOT EXISTS updated_at TIMESTAMP;
CREATE TABLE IF NOT EXISTS dimensions (
    tenant VARCHAR NOT NULL,
    kind VARCHAR NOT NULL,
    key VARCHAR NOT NULL,
    declared_at TIMESTAMP NOT NULL,
    since TIMESTAMP NOT NULL,
    max_values INTEGER NOT NULL,
    overflowed BOOLEAN NOT NULL DEFAULT false,
    PRIMARY KEY (tenant, kind, key)
);
CREATE TABLE IF NOT EXISTS heartbeat (
    id INTEGER PRIMARY KEY,
    written_at TIMESTAMP NOT NULL
);
"""
)

REWIND_POSITION = """
INSERT INTO source_positions VALUES (?, ?, ?)
ON CONFLICT DO UPDATE SET next_offset = excluded.next_offset
"""

HEARTBEAT = """
INSERT INTO heartbeat VALUES (1, ?) ON CONFLICT DO UPDATE SET written_at = excluded.written_at
"""

JOB_COLUMNS = (
    "id, tenant, operation, state, created_at, request, progress, finished_at, error, result,"
    " updated_at"
)
_JOB_CHANGES = ", ".join(
    f"{c} = excluded.{c}"
    for c in JOB_COLUMNS.replace(" ", "").split(",")
    if c not in {"id", "tenant"}
)
KEY_COLUMNS = "id, tenant, role, secret_hash, created_at, name, revoked_at"
SAVE_KEY = f"INSERT OR REPLACE INTO api_keys ({KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
# An ended job is final: a later save of the same job changes nothing.
SAVE_JOB = f"""
INSERT INTO analysis_jobs ({JOB_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (tenant, id) DO UPDATE SET {_JOB_CHANGES}
WHERE analysis_jobs.state NOT IN ('SUCCEEDED', 'FAILED', 'CANCELLED')
"""

INSERT_EVENTS = """
INSERT INTO events
SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]), unnest(?::TIMESTAMP[]), unnest(?::VARCHAR[]),
    unnest(?::VARCHAR[])::JSON)
ON CONFLICT DO NOTHING
RETURNING tenant, id
"""

INSERT_METRIC_POINTS = """
INSERT INTO metric_points
SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::DOUBLE[]), unnest(?::VARCHAR[])::JSON, unnest(?::TIMESTAMP[]),
    unnest(?::TIMESTAMP[]))
ON CONFLICT DO NOTHING
RETURNING tenant, id
"""

# The upserts below add rows to what is stored; each takes its rows from a query, by default one
# over list parameters (one list per column), as the Python write path passes them.
SERIES_PARAMS = """SELECT * FROM (SELECT unnest(?::BIGINT[]), unnest(?::VARCHAR[]),
    unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[])::JSON, unnest(?::BIGINT[]),
    unnest(?::TIMESTAMP[]))"""


def upsert_series(rows: str = SERIES_PARAMS) -> str:
    return f"""
INSERT INTO series
{rows}
ON CONFLICT DO UPDATE SET
    count = series.count + excluded.count,
    last_seen = greatest(series.last_seen, excluded.last_seen)
"""


UPSERT_SERIES = upsert_series()

ROLLUP_PARAMS = """SELECT * FROM (SELECT unnest(?::BIGINT[]), unnest(?::TIMESTAMP[]),
    unnest(?::BIGINT[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]), unnest(?::DOUBLE[]),
    unnest(?::DOUBLE[]))"""


def upsert_rollups(level: timedelta, rows: str = ROLLUP_PARAMS) -> str:
    table = f"rollups_{LEVEL_NAMES[level]}"
    return f"""
INSERT INTO {table}
{rows}
ON CONFLICT DO UPDATE SET
    count = {table}.count + excluded.count,
    total = {table}.total + excluded.total,
    low = least({table}.low, excluded.low),
    high = greatest({table}.high, excluded.high),
    sum_squares = {table}.sum_squares + excluded.sum_squares
"""


BIN_PARAMS = """SELECT * FROM (SELECT unnest(?::BIGINT[]), unnest(?::TIMESTAMP[]),
    unnest(?::INTEGER[]), unnest(?::BIGINT[]))"""


def upsert_bins(level: timedelta, rows: str = BIN_PARAMS) -> str:
    table = f"bins_{LEVEL_NAMES[level]}"
    return f"""
INSERT INTO {table}
{rows}
ON CONFLICT DO UPDATE SET n = {table}.n + excluded.n
"""


PRESENCE_PARAMS = """SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]),
    unnest(?::VARCHAR[]))"""


def insert_presence(level: timedelta, rows: str = PRESENCE_PARAMS) -> str:
    return f"""
INSERT INTO presence_{LEVEL_NAMES[level]}
{rows}
ON CONFLICT DO NOTHING
"""


# Mirrors TaskDelta.merge: earliest creation and completion win, the latest status wins, and the
# creator owns the task.
UPSERT_TASKS = """
INSERT INTO tasks
SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::VARCHAR[]), unnest(?::VARCHAR[]),
    unnest(?::TIMESTAMP[]), unnest(?::TIMESTAMP[]), unnest(?::VARCHAR[]), unnest(?::TIMESTAMP[]))
ON CONFLICT DO UPDATE SET
    user_id = CASE WHEN excluded.created_at IS NOT NULL AND excluded.user_id IS NOT NULL
        THEN excluded.user_id ELSE coalesce(tasks.user_id, excluded.user_id) END,
    created_at = least(tasks.created_at, excluded.created_at),
    completed_at = least(tasks.completed_at, excluded.completed_at),
    status = CASE WHEN excluded.status_at IS NOT NULL
        AND (tasks.status_at IS NULL OR excluded.status_at >= tasks.status_at)
        THEN excluded.status ELSE tasks.status END,
    status_at = greatest(tasks.status_at, excluded.status_at)
"""

UPSERT_POSITIONS = """
INSERT INTO source_positions
SELECT * FROM (SELECT unnest(?::VARCHAR[]), unnest(?::INTEGER[]), unnest(?::BIGINT[]))
ON CONFLICT DO UPDATE SET
    next_offset = greatest(source_positions.next_offset, excluded.next_offset)
"""
