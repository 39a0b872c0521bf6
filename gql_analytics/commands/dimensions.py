"""Declaring and listing dimensions (for ``gql-analytics dimensions``; the server may be down)."""

from __future__ import annotations

import argparse
import sys

from gql_analytics.adapters.stores import open_store
from gql_analytics.domain.dimensions import Dimensions, check_keys
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.errors import InvalidInput
from gql_analytics.services.analytics import utc_now


async def manage_dimensions(arguments: argparse.Namespace) -> int:
    wanted = {
        EVENT: _keys(arguments.events) if arguments.dimensions_command == "declare" else None,
        METRIC: _keys(arguments.metrics) if arguments.dimensions_command == "declare" else None,
    }
    try:
        for kind, keys in wanted.items():
            if keys is not None:
                check_keys(kind, keys, arguments.max_values)  # before the store is opened
    except InvalidInput as error:
        print(f"dimensions declare: {error.message}", file=sys.stderr)
        return 2
    store = open_store(arguments.store_url)
    try:
        declared = await store.dimensions(arguments.tenant)
        for kind, keys in wanted.items():
            if keys is not None:
                declared = await store.declare_dimensions(
                    arguments.tenant, kind, keys, utc_now(), arguments.max_values
                )
        _show(declared)
        return 0
    finally:
        await store.close()


def _keys(text: str | None) -> list[str] | None:
    """``"plan,country"`` as keys; None (not given) leaves the kind's declarations as they are."""
    if text is None:
        return None
    return [key.strip() for key in text.split(",") if key.strip()]


def _show(dimensions: Dimensions) -> None:
    if not dimensions.declared:
        print("no dimensions declared: rollups are split by name only")
    for d in sorted(dimensions.declared, key=lambda d: (d.tenant, d.kind, d.key)):
        print(
            f"{d.tenant}  {d.kind:6}  {d.key}  declared {d.declared_at:%Y-%m-%d %H:%M}  "
            f"rollups hold it from {d.since:%Y-%m-%d %H:%M} UTC, at most {d.max_values} values"
            + (" (overflowed)" if d.overflowed else "")
        )
