"""What every analysis operation shares: its knobs, the columns it reads, and JSON-safe numbers."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd

from gql_analytics.errors import InvalidAnalysis

JSON = dict[str, Any]
MAX_SEED = 2**32 - 1  # the seeds of NumPy's RandomState, which scikit-learn seeds
LARGEST = 1e100
"""The largest magnitude analysed by an operation that squares its values: sums of squares of
millions of such rows stay finite. Past it they overflowed, silently: a t statistic of 0, k-means
with an infinite inertia, a regression that called its columns collinear."""
Progress = Callable[[float], None]
"""Told the fraction of an operation done (0..1) as it goes; the job's ``progress``."""


def ignore(fraction: float) -> None:
    """A ``Progress`` for callers that do not follow it."""


@dataclass(frozen=True, slots=True)
class Parameters:
    """The knobs of ``AnalysisInput`` (each operation reads the ones it needs)."""

    columns: tuple[str, ...] | None = None
    target: str | None = None
    k: int | None = None
    group_column: str | None = None
    groups: tuple[str, ...] | None = None
    popmean: float | None = None
    method: str | None = None
    horizon: int | None = None
    seed: int | None = None
    threshold: float | None = None
    level: float | None = None


def number(value: Any) -> float | None:
    """A float for JSON: NaN (an undefined statistic, such as the deviation of one value) is null."""
    result = float(value)
    return result if math.isfinite(result) else None


def seed_of(parameters: Parameters) -> int:
    """The seed of k-means and IsolationForest (0 unless given); one they cannot take is bad
    input, refused before a job is stored."""
    seed = 0 if parameters.seed is None else parameters.seed
    if not 0 <= seed <= MAX_SEED:
        raise InvalidAnalysis(f"seed: between 0 and {MAX_SEED}, got {seed}")
    return seed


def bounded(values: pd.DataFrame) -> pd.DataFrame:
    """``values``, refused if a column holds a magnitude past ``LARGEST``."""
    largest = values.abs().max()
    over = [str(name) for name, top in largest.items() if top > LARGEST]
    if over:
        raise InvalidAnalysis(
            f"column {', '.join(over)}: values beyond {LARGEST:g} in magnitude would overflow;"
            " scale the column down"
        )
    return values


def existing(frame: pd.DataFrame, names: Sequence[str]) -> None:
    missing = [name for name in names if name not in frame.columns]
    if missing:
        known = ", ".join(map(str, frame.columns)) or "none"
        raise InvalidAnalysis(f"no column {', '.join(missing)} in the dataset (columns: {known})")


def numeric_names(frame: pd.DataFrame, parameters: Parameters, *, least: int = 1) -> list[str]:
    """The numeric columns asked for, or else every numeric column that has a value in every
    row; from the frame's shape alone, so it is cheap to check before a job is queued."""
    if frame.empty:
        raise InvalidAnalysis("the dataset is empty")
    if parameters.columns:
        existing(frame, parameters.columns)
        text = [c for c in parameters.columns if not _is_number(frame[c])]
        if text:
            raise InvalidAnalysis(f"column {', '.join(text)} is not numeric")
        names = list(parameters.columns)
    else:
        names = [str(c) for c in frame.columns if _is_number(frame[c])]
    if len(names) < least:
        raise InvalidAnalysis(f"the dataset needs at least {least} numeric column(s)")
    return names


def numeric_columns(frame: pd.DataFrame, parameters: Parameters, *, least: int = 1) -> pd.DataFrame:
    """The numeric columns asked for, rows with a missing value dropped; without ``columns``,
    every numeric column that has a value in every row (a column missing for some rows, such
    as a completion time for users who completed nothing, would otherwise drop those rows)."""
    chosen = frame[numeric_names(frame, parameters, least=least)].astype(float)
    if not parameters.columns:
        chosen = chosen.dropna(axis="columns")
        if chosen.shape[1] < least:
            raise InvalidAnalysis(
                f"the dataset needs at least {least} numeric column(s) with a value in every row;"
                " name the columns to use the rows that have them"
            )
    chosen = chosen.dropna()
    if chosen.empty:
        raise InvalidAnalysis("no row has a value in every column analysed")
    return chosen


def _is_number(series: pd.Series[Any]) -> bool:
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)
