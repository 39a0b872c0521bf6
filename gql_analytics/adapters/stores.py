"""Store adapters, chosen by the scheme of the store URL."""

from __future__ import annotations

from datetime import timedelta

from gql_analytics.errors import InvalidInput
from gql_analytics.ports import Store


def open_store(url: str, *, retention: timedelta | None = None, min_free_bytes: int = 0) -> Store:
    """``duckdb:///path/to/file.duckdb``, ``duckdb:///:memory:``, or a MongoDB connection string
    (``mongodb://host/database?replicaSet=rs0``, ``mongodb+srv://...``). ``retention``: how long
    raw records are kept, for stores that expire them themselves (MongoDB's TTL index);
    ``min_free_bytes``: below it a DuckDB file's store is not ready (its server's own matter
    for MongoDB)."""
    if url.startswith("duckdb://"):
        from gql_analytics.adapters.duckdb.store import DuckDBStore

        path = url.removeprefix("duckdb://").removeprefix("/") or ":memory:"
        return DuckDBStore(path, min_free_bytes=min_free_bytes)
    if url.startswith(("mongodb://", "mongodb+srv://")):
        from gql_analytics.adapters.mongodb.store import open_mongodb

        return open_mongodb(url, retention=retention)
    raise InvalidInput(
        f"store: unsupported store URL {url!r} (expected duckdb:///... or mongodb://...)"
    )
