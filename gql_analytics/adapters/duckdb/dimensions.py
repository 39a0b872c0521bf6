"""``DuckDBStore``'s declared dimensions (the table ``declared.py`` reads)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import duckdb

from gql_analytics.adapters.duckdb.database import Database
from gql_analytics.adapters.duckdb.declared import declared
from gql_analytics.adapters.duckdb.values import Params, naive
from gql_analytics.domain.dimensions import DEFAULT_MAX_VALUES, Dimensions, since


class DimensionStore(Database):
    """``DimensionRepository``."""

    async def declare_dimensions(
        self,
        tenant: str,
        kind: str,
        keys: Sequence[str],
        at: datetime,
        max_values: int = DEFAULT_MAX_VALUES,
    ) -> Dimensions:
        def declare(connection: duckdb.DuckDBPyConnection) -> Dimensions:
            params: Params = [tenant, kind, list(keys)]
            connection.execute(
                "DELETE FROM dimensions WHERE tenant = ? AND kind = ? "
                "AND NOT list_contains(?::VARCHAR[], key)",
                params,
            )
            written = connection.execute(
                "SELECT count(*) > 0 FROM series WHERE tenant = ? AND kind = ?", [tenant, kind]
            ).fetchall()[0][0]
            held_from = since(at, records_before=bool(written))
            connection.execute(
                "INSERT INTO dimensions SELECT ?, ?, unnest(?::VARCHAR[]), ?, ?, ?, false "
                "ON CONFLICT DO UPDATE SET max_values = excluded.max_values",
                [tenant, kind, list(keys), naive(at), naive(held_from), max_values],
            )
            return declared(connection, tenant)

        return await self._run(lambda: self._transaction(declare))

    async def dimensions(self, tenant: str | None = None) -> Dimensions:
        return await self._run(lambda: declared(self._reader(), tenant))
