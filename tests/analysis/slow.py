"""Operations for the runner's tests: importable by a spawned worker, as operations must be."""

from __future__ import annotations

import os
import time

import pandas as pd

from gql_analytics.services.analysis.parameters import JSON, Parameters, Progress, ignore


def forever(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """Never returns on its own: only a kill ends it."""
    while True:
        time.sleep(0.05)


def whose(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """Which process ran it."""
    return {"pid": os.getpid()}


def broken(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    raise ZeroDivisionError("division by zero")


def not_a_number(frame: pd.DataFrame, parameters: Parameters, progress: Progress = ignore) -> JSON:
    """A result JSON cannot carry, as an operation with a bug would return."""
    return {"value": float("nan")}
