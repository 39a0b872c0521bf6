"""Live fields: a value computed now, then again when a relevant change commits, shared by the
subscribers of the same question (``services.live.fanout``) and pushed at a bounded rate
(``services.live.watch``)."""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Awaitable, Callable, Hashable
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from gql_analytics.domain.timerange import TimeRange as DomainTimeRange
from gql_analytics.entrypoints.graphql.common import TimeRange
from gql_analytics.entrypoints.graphql.live.subscriber import Subscriber
from gql_analytics.ports import Change
from gql_analytics.services.live.watch import seconds_to_next_minute, watch

T = TypeVar("T")
LATEST_VALUE_FIELDS = frozenset({"eventCount", "metricUpdates", "live"})
"""Fields whose subscribers want the latest value, not every one."""
STREAM_FIELDS = frozenset({"eventStream"})
"""Fields whose subscribers want every value, in order."""
SHARED_FIELDS = LATEST_VALUE_FIELDS | STREAM_FIELDS
"""Identical subscriptions to these share one stream (``sharing``)."""


def question(field: str, *arguments: Any) -> Hashable:
    """What a subscription asks, as the key of the computation it shares."""
    return (field, json.dumps(arguments, sort_keys=True, default=str))


async def live(
    ctx: Subscriber,
    key: Hashable,
    window: TimeRange,
    compute: Callable[[DomainTimeRange], Awaitable[T]],
    relevant: Callable[[Change], bool],
    zone: ZoneInfo | None = None,
) -> AsyncGenerator[T, None]:
    """``compute`` over the window, pushed when a relevant change commits; a ``last`` window is
    also recomputed as it slides past each minute boundary. Subscribers of the same ``key``
    (and tenant) share the computation and get its latest value. ``zone``: the one whose days
    ``wholeDays`` counts."""
    sliding = window.resolve(ctx.service, zone).sliding  # resolving refuses a bad range up front

    def next_tick() -> float | None:
        return seconds_to_next_minute(ctx.service.clock()) if sliding else None

    async def source() -> AsyncIterator[T]:
        async with ctx.bus.subscribe(ctx.tenant) as changes:
            async for value in watch(
                lambda: compute(window.resolve(ctx.service, zone)),
                changes,
                relevant,
                throttle=ctx.live_throttle,
                next_tick=next_tick,
            ):
                yield value

    with ctx.place():
        async with ctx.feeds.join((ctx.tenant, key), source) as values:
            async for value in values:
                ctx.pushed()
                yield value
