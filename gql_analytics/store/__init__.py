"""Store adapters, chosen by the scheme of the store URL."""

from __future__ import annotations

from gql_analytics.errors import InvalidInput
from gql_analytics.ports import Store


def open_store(url: str) -> Store:
    """``duckdb:///path/to/file.duckdb`` or ``duckdb:///:memory:``."""
    if url.startswith("duckdb://"):
        from gql_analytics.store.duckdb import DuckDBStore

        return DuckDBStore(url.removeprefix("duckdb://").removeprefix("/") or ":memory:")
    raise InvalidInput(f"store: unsupported store URL {url!r} (expected duckdb:///...)")
