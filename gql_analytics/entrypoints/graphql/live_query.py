"""Any query held live: ``subscription { live { <query fields> } }``.

Why a subscription field and not ``query @live``: every GraphQL-over-WebSocket client (and the
SSE protocols) streams subscriptions as they are; a ``@live`` query needs a client and a
transport that know the convention, and a query that may stream breaks the rule that a query
answers once. The field's type is the ``Query`` root, so anything a query can ask, a live widget
can hold, checked and costed as it is.

Each answer is resolved by a service that records what it read (as the query cache's answers
are): the series, by tenant, kind and name, and whether a range ends now. The answer is asked
again only when a committed change touches one of those series (and the store says it moved),
or, for a range that ends now, at the next minute; at most once per throttle. Identical live
queries of a tenant share one execution (``sharing``).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.ports import Change
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.dependencies import Reads, touches
from gql_analytics.services.live.watch import seconds_to_next_minute

DESCRIPTION = (
    "Any query, held live: its fields answered now, then again whenever a committed change "
    "touches a series they read, or (for a range ending now) each minute; at most once per "
    "throttle. Identical live queries share one execution."
)


class LiveRoot:
    """The root value of one live answer: the ``Query`` fields resolve against it."""


async def live(info: Info) -> AsyncGenerator[LiveRoot, None]:
    """The ``live`` subscription's resolver (``roots`` gives it the ``Query`` type)."""
    ctx = info.context  # this operation's own (``Context.own``): its service may be swapped
    base = ctx.service
    changed = asyncio.Event()
    pending: list[Change] = []

    async def listen() -> None:
        async for change in changes:
            pending.append(change)
            changed.set()

    with ctx.place():
        async with ctx.bus.subscribe(ctx.tenant) as changes:
            listener = asyncio.create_task(listen())
            try:
                while True:
                    changed.clear()
                    pending.clear()
                    ctx.service, reads = base.recording()
                    ctx.plans = []  # this answer's plans only
                    ctx.pushed()
                    yield LiveRoot()
                    ctx.service = base
                    await asyncio.sleep(ctx.live_throttle.total_seconds())
                    await _until_moved(base, reads, changed, pending)
            finally:
                listener.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await listener


async def _until_moved(
    service: AnalyticsService, reads: Reads, changed: asyncio.Event, pending: list[Change]
) -> None:
    """Return once what the last answer read may have moved: a change touching a series it read
    (that the store confirms), or the next minute for a range that ends now."""
    while True:
        tick = seconds_to_next_minute(service.clock()) if reads.minute is not None else None
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(changed.wait(), tick)
        if not changed.is_set():
            return  # the minute turned: a range ending now slid
        changed.clear()
        seen, pending[:] = list(pending), []
        touched = [d for d in reads.versions if any(touches(d, c) for c in seen)]
        if touched and not await service.still_current([(d, reads.versions[d]) for d in touched]):
            return
