"""What an answer read, so that a cached answer is used only while the data under it is unchanged.

While a query is resolved for the cache, it is resolved by a service that records what it reads
in a ``Reads`` (``AnalyticsService.recording``). Every read of the service declares what it
depends on before it reads: some series of one tenant, of one kind, by
name or all of them (``Dependency``), stamped with their version as the store reports it
(``Store.versions``); and, for a range that ends now, the minute it was resolved in. A stamp
taken before the data is read is never newer than the data: a changed version means the answer
may have changed, and an unchanged one that it has not.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gql_analytics.domain.rollup import EVENT
from gql_analytics.ports import Change, Dependency, Version


@dataclass(slots=True)
class Reads:
    versions: dict[Dependency, Version] = field(default_factory=dict)
    minute: datetime | None = None  # the minute a range ending now was resolved in


def touches(dependency: Dependency, change: Change) -> bool:
    """Whether a committed change may have changed what ``dependency`` names."""
    if dependency.tenant != change.tenant:
        return False
    names = change.event_names if dependency.kind == EVENT else change.metric_names
    if dependency.names is None:
        return bool(names)
    return not names.isdisjoint(dependency.names)
