"""What an answer read, so that a cached answer is used only while the data under it is unchanged.

While a query is resolved for the cache, a ``Reads`` is open (``recording``). Every read of the
service declares what it depends on before it reads: some series of one tenant, of one kind, by
name or all of them (``Dependency``), stamped with their version as the store reports it
(``Store.versions``); and, for a range that ends now, the minute it was resolved in. A stamp
taken before the data is read is never newer than the data: a changed version means the answer
may have changed, and an unchanged one that it has not.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import datetime

from gql_analytics.ports import Dependency, Version


@dataclass(slots=True)
class Reads:
    versions: dict[Dependency, Version] = field(default_factory=dict)
    minute: datetime | None = None  # the minute a range ending now was resolved in


_reads: ContextVar[Reads | None] = ContextVar("reads", default=None)


@contextmanager
def recording() -> Iterator[Reads]:
    reads = Reads()
    token = _reads.set(reads)
    try:
        yield reads
    finally:
        _reads.reset(token)


def current() -> Reads | None:
    """The reads being recorded, if the answer being resolved is meant for the cache."""
    return _reads.get()
