"""The declared dimensions, read from their table in each batch's transaction, so a batch splits
its rollups by the declarations as they are when it commits."""

from __future__ import annotations

from datetime import UTC

import duckdb

from gql_analytics.domain.dimensions import Declared, Dimensions

_SELECT = "SELECT tenant, kind, key, declared_at, since FROM dimensions"


def declared(connection: duckdb.DuckDBPyConnection, tenant: str | None = None) -> Dimensions:
    where, params = ("", []) if tenant is None else (" WHERE tenant = ?", [tenant])
    rows = connection.execute(_SELECT + where, params).fetchall()
    return Dimensions(
        tuple(
            Declared(t, k, key, at.replace(tzinfo=UTC), since.replace(tzinfo=UTC))
            for t, k, key, at, since in rows
        )
    )
