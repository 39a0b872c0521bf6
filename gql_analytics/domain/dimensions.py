"""Declared dimensions: the event properties and metric tags a tenant's rollups are split by.

A record counts in the series of its name and of its values of the declared keys only, so an
attribute nobody declared (a user id, a request id) costs no series however many values it has.
A key's rollups hold it only for records written after it was declared: the planner reads them
for a question on the key from ``since`` on (``settled``: the next hour after the declaration
has settled, since records may be up to ``MAX_FUTURE`` ahead of the clock and another process
may have written for ``SETTLE`` more before it saw the declaration); or from the start, for a
key declared before any record of its kind was written."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from gql_analytics.domain.query.fields import text_of
from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.domain.timerange import EPOCH, HOUR, ceil_to
from gql_analytics.domain.validation import MAX_FUTURE
from gql_analytics.errors import InvalidInput

SETTLE = timedelta(minutes=5)
MAX_KEYS = 10
KINDS = (EVENT, METRIC)


@dataclass(frozen=True, slots=True)
class Declared:
    """One declared key of a tenant's records of one kind: when it was declared, and from when
    the rollups hold it for every record."""

    tenant: str
    kind: str
    key: str
    declared_at: datetime
    since: datetime
    max_values: int = 1000
    overflowed: bool = False  # a value past ``max_values`` was written: it counts as OTHER


def since(declared_at: datetime, *, records_before: bool) -> datetime:
    """From when the rollups hold a key declared at ``declared_at``: the start of time when no
    record of its kind was written before; else once the declaration has settled."""
    if not records_before:
        return EPOCH
    return ceil_to(declared_at + MAX_FUTURE + SETTLE, HOUR)


@dataclass(frozen=True, slots=True)
class Dimensions:
    """Every declaration a store holds (of one tenant, or of all)."""

    declared: tuple[Declared, ...] = ()
    _keys: Mapping[tuple[str, str], tuple[str, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        keys: dict[tuple[str, str], list[str]] = {}
        for d in sorted(self.declared, key=lambda d: d.key):
            keys.setdefault((d.tenant, d.kind), []).append(d.key)
        object.__setattr__(self, "_keys", {k: tuple(v) for k, v in keys.items()})

    def items(self) -> list[tuple[tuple[str, str], tuple[str, ...]]]:
        """Each (tenant, kind) with declared keys, and its keys, sorted."""
        return sorted(self._keys.items())

    def of_tenants(self, tenants: Iterable[str]) -> Dimensions:
        wanted = set(tenants)
        return Dimensions(tuple(d for d in self.declared if d.tenant in wanted))

    def keys(self, tenant: str, kind: str) -> tuple[str, ...]:
        return self._keys.get((tenant, kind), ())

    def of(self, tenant: str, kind: str, key: str) -> Declared | None:
        return next(
            (d for d in self.declared if (d.tenant, d.kind, d.key) == (tenant, kind, key)), None
        )

    def project(self, record: Record) -> tuple[tuple[str, str], ...]:
        """The record's values of its tenant's declared keys, as its series' tags (sorted by
        key; a key the record lacks is left out)."""
        if isinstance(record, Event):
            keys = self._keys.get((record.tenant, EVENT))
            if not keys:
                return ()
            values = record.properties
            return tuple((k, text) for k in keys if (text := text_of(values.get(k))) is not None)
        keys = self._keys.get((record.tenant, METRIC))
        if not keys:
            return ()
        tags = record.tags
        return tuple((k, tags[k]) for k in keys if k in tags)


NONE = Dimensions()
OTHER = "(other)"
"""What a declared key's value becomes in the rollups once the key has ``max_values`` others."""
DEFAULT_MAX_VALUES = 1000
MAX_MAX_VALUES = 100_000


class Capped:
    """``Dimensions.project`` for one batch, each key holding at most its ``max_values``
    distinct values: those its series hold already (``series``: the (tenant, kind, tags) of
    every series of the tenants declared) are kept; a new value is kept while there is room,
    and is ``OTHER`` after. ``overflowed`` names the keys that ran out here."""

    def __init__(
        self, dimensions: Dimensions, series: Iterable[tuple[str, str, Mapping[str, str]]]
    ) -> None:
        self.dimensions = dimensions
        self._known: dict[tuple[str, str, str], set[str]] = {}
        for tenant, kind, tags in series:
            for key in dimensions.keys(tenant, kind):
                value = tags.get(key)
                if value is not None and value != OTHER:
                    self._known.setdefault((tenant, kind, key), set()).add(value)
        self._room = {(d.tenant, d.kind, d.key): d.max_values for d in dimensions.declared}
        self.overflowed: set[tuple[str, str, str]] = set()

    def project(self, record: Record) -> tuple[tuple[str, str], ...]:
        kind = EVENT if isinstance(record, Event) else METRIC
        return self.cap(record.tenant, kind, self.dimensions.project(record))

    def cap(
        self, tenant: str, kind: str, values: tuple[tuple[str, str], ...]
    ) -> tuple[tuple[str, str], ...]:
        """``values`` (a series' tags) with each value past its key's room made ``OTHER``."""
        capped = []
        for key, value in values:
            name = (tenant, kind, key)
            known = self._known.setdefault(name, set())
            if value not in known:
                if len(known) < self._room.get(name, DEFAULT_MAX_VALUES):
                    known.add(value)
                else:
                    self.overflowed.add(name)
                    value = OTHER
            capped.append((key, value))
        return tuple(capped)


def check_keys(
    kind: str, keys: Iterable[str], max_values: int = DEFAULT_MAX_VALUES
) -> tuple[str, ...]:
    """The keys to declare, or a coded error saying what is wrong with them."""
    if not 1 <= max_values <= MAX_MAX_VALUES:
        raise InvalidInput(f"maxValues: between 1 and {MAX_MAX_VALUES:,}", field="maxValues")
    if kind not in KINDS:
        raise InvalidInput(f"of: records are events or metrics, not {kind!r}", field="of")
    unique = tuple(dict.fromkeys(keys))
    if len(unique) > MAX_KEYS:
        raise InvalidInput(f"keys: at most {MAX_KEYS} dimensions per kind", field="keys")
    if any(not key or len(key) > 128 for key in unique):
        raise InvalidInput("keys: a key is 1 to 128 characters", field="keys")
    return unique
