"""Inline rows (``dataset: {rows: [...]}``) as a DataFrame, refused whole when any is unusable."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from gql_analytics.errors import InvalidAnalysis

MAX_ROWS = 10_000


def frame_of_rows(rows: Any, limit: int = MAX_ROWS) -> pd.DataFrame:
    """A list of flat JSON objects (values: strings, numbers, booleans or null) as a DataFrame,
    one column per key."""
    if not isinstance(rows, list) or not rows:
        raise InvalidAnalysis("dataset.rows: must be a non-empty list of objects")
    if len(rows) > limit:
        raise InvalidAnalysis(f"dataset.rows: at most {limit:,} rows inline, got {len(rows):,}")
    for index, row in enumerate(rows):
        if not isinstance(row, dict):
            raise InvalidAnalysis(f"dataset.rows[{index}]: must be an object")
        for key, value in row.items():
            if value is not None and not isinstance(value, str | int | float | bool):
                raise InvalidAnalysis(f"dataset.rows[{index}].{key}: must be a flat value")
            if isinstance(value, float) and not math.isfinite(value):
                raise InvalidAnalysis(f"dataset.rows[{index}].{key}: must be a finite number")
    return pd.DataFrame.from_records(rows)
