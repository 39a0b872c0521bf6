"""What subscribers hear of a committed batch: one live-bus change per tenant it touched."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence, Set

from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.ports import Change, LiveBus

log = logging.getLogger(__name__)


def changes_of(records: Sequence[Record], *, with_events: bool) -> list[Change]:
    """The changes of records applied in Python (with the new events themselves only
    ``with_events``)."""
    series = frozenset(
        (r.tenant, EVENT if isinstance(r, Event) else METRIC, r.name) for r in records
    )
    events = tuple(r for r in records if isinstance(r, Event)) if with_events else ()
    return changes_in(series, events)


def changes_in(series: Set[tuple[str, str, str]], events: Sequence[Event]) -> list[Change]:
    """One change per tenant of the (tenant, kind, name) series new records are in, with the
    tenant's new ``events`` (those given)."""
    return [
        Change(
            tenant=tenant,
            event_names=frozenset(n for t, k, n in series if t == tenant and k == EVENT),
            metric_names=frozenset(n for t, k, n in series if t == tenant and k == METRIC),
            events=tuple(e for e in events if e.tenant == tenant),
        )
        for tenant in sorted({tenant for tenant, _, _ in series})
    ]


async def publish(bus: LiveBus, changes: Iterable[Change]) -> None:
    """Tell subscribers of a batch already committed. A change the bus fails to take is logged
    and skipped: the batch stays applied (applying it again would count it as duplicates and
    tell nobody), and subscribers catch up with the next change of the same names."""
    for change in changes:
        try:
            await bus.publish(change)
        except Exception as error:
            log.error("live: a committed change of %s was not published: %r", change.tenant, error)
