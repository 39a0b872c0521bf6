"""The declared dimensions, read from their table in each batch's transaction, so a batch splits
its rollups by the declarations as they are when it commits; and each declared key's values its
series hold already, to keep each key within its ``max_values``."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC

import duckdb

from gql_analytics.domain.dimensions import Capped, Declared, Dimensions

_SELECT = "SELECT tenant, kind, key, declared_at, since, max_values, overflowed FROM dimensions"


def declared(connection: duckdb.DuckDBPyConnection, tenant: str | None = None) -> Dimensions:
    where, params = ("", []) if tenant is None else (" WHERE tenant = ?", [tenant])
    rows = connection.execute(_SELECT + where, params).fetchall()
    return Dimensions(
        tuple(
            Declared(t, k, key, at.replace(tzinfo=UTC), since.replace(tzinfo=UTC), most, over)
            for t, k, key, at, since, most, over in rows
        )
    )


def capped(connection: duckdb.DuckDBPyConnection, tenants: Iterable[str]) -> Capped:
    """The declarations of ``tenants`` (a batch's), each key with the values its series hold
    already."""
    dimensions = declared(connection).of_tenants(tenants)
    if not dimensions.declared:
        return Capped(dimensions, ())
    rows = connection.execute(
        "SELECT tenant, kind, tags FROM series WHERE tenant IN (SELECT unnest(?::VARCHAR[]))",
        [sorted({d.tenant for d in dimensions.declared})],
    ).fetchall()
    return Capped(dimensions, ((t, k, json.loads(tags)) for t, k, tags in rows))


def mark_overflowed(
    connection: duckdb.DuckDBPyConnection, keys: Iterable[tuple[str, str, str]]
) -> None:
    for tenant, kind, key in keys:
        connection.execute(
            "UPDATE dimensions SET overflowed = true WHERE tenant = ? AND kind = ? AND key = ?",
            [tenant, kind, key],
        )
