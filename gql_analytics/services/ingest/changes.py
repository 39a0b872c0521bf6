"""What subscribers hear of a committed batch: one live-bus change per tenant it touched."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence

from gql_analytics.domain.records import Event, MetricPoint, Record
from gql_analytics.ports import Change, LiveBus

log = logging.getLogger(__name__)


def changes_of(records: Sequence[Record], *, with_events: bool) -> list[Change]:
    """One live-bus change per tenant the records are of (with the new events themselves only
    ``with_events``)."""
    tenants: dict[str, list[Record]] = {}
    for record in records:
        tenants.setdefault(record.tenant, []).append(record)
    return [
        Change(
            tenant=tenant,
            event_names=frozenset(r.name for r in records if isinstance(r, Event)),
            metric_names=frozenset(r.name for r in records if isinstance(r, MetricPoint)),
            events=tuple(r for r in records if isinstance(r, Event)) if with_events else (),
        )
        for tenant, records in tenants.items()
    ]


def staged_changes(
    series: frozenset[tuple[str, str, str]], events: tuple[Event, ...]
) -> list[Change]:
    """The changes of a staged batch, from the series its new records are in."""
    tenants = sorted({tenant for tenant, _, _ in series})
    return [
        Change(
            tenant=tenant,
            event_names=frozenset(n for t, k, n in series if t == tenant and k == "event"),
            metric_names=frozenset(n for t, k, n in series if t == tenant and k == "metric"),
            events=tuple(e for e in events if e.tenant == tenant),
        )
        for tenant in tenants
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
