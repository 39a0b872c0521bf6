"""An analysis job as it is stored (what was asked, where it is, what it found), and the limits
every job runs within."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

QUEUED = "QUEUED"
RUNNING = "RUNNING"
SUCCEEDED = "SUCCEEDED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
ENDED = frozenset({SUCCEEDED, FAILED, CANCELLED})


@dataclass(frozen=True, slots=True)
class AnalysisJob:
    id: str
    tenant: str
    operation: str
    state: str
    created_at: datetime
    request: dict[str, Any]  # the AnalysisInput, as JSON
    progress: float = 0.0
    finished_at: datetime | None = None
    error: str | None = None
    result: dict[str, Any] | None = None
    updated_at: datetime | None = None  # the last change or sign of life of its process

    @property
    def ended(self) -> bool:
        return self.state in ENDED


@dataclass(frozen=True, slots=True)
class AnalysisLimits:
    """Past ``rows`` or ``seconds`` a job ends FAILED; ``concurrent`` jobs run at once."""

    rows: int = 1_000_000
    seconds: float = 60.0
    concurrent: int = 2
