"""The in-process live bus: committed changes fanned out to this process's subscriptions."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from gql_analytics.ports import Change


class InProcessBus:
    """Each subscriber has a bounded queue; a subscriber that falls behind loses its oldest
    changes rather than holding up the publisher or growing without bound."""

    def __init__(self, queue_size: int = 1024) -> None:
        self._queue_size = queue_size
        self._subscribers: defaultdict[str, set[asyncio.Queue[Change]]] = defaultdict(set)
        self._event_readers = 0

    async def publish(self, change: Change) -> None:
        for queue in tuple(self._subscribers.get(change.tenant, ())):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(change)

    @asynccontextmanager
    async def subscribe(
        self, tenant: str, *, events: bool = False
    ) -> AsyncIterator[AsyncIterator[Change]]:
        queue: asyncio.Queue[Change] = asyncio.Queue(self._queue_size)
        self._subscribers[tenant].add(queue)
        self._event_readers += events
        try:
            yield _drain(queue)
        finally:
            self._event_readers -= events
            self._subscribers[tenant].discard(queue)
            if not self._subscribers[tenant]:
                del self._subscribers[tenant]

    @property
    def wants_events(self) -> bool:
        return self._event_readers > 0

    @property
    def subscriber_count(self) -> int:
        return sum(len(queues) for queues in self._subscribers.values())


async def _drain(queue: asyncio.Queue[Change]) -> AsyncIterator[Change]:
    while True:
        yield await queue.get()
