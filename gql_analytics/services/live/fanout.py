"""Subscriptions that ask the same question share one computation.

A ``Feed`` runs one source of values (a live query: recomputed when a relevant change commits)
for every subscriber of the same (tenant, field, arguments), and hands each value to each
subscriber's ``_Slot``. A slot holds only the latest value: a subscriber whose socket is slow
finds the newest value when it is ready for the next, never a backlog, and never holds up the
source or the other subscribers. The first subscriber starts the source; the last one to leave
stops it; one who joins a running feed gets its latest value at once, computed for nobody new.
A stream's subscribers (``every``) want every value instead: their slots keep them all, and one
who joins gets those that come after.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
from collections import deque
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from typing import Any, Generic, TypeVar

T = TypeVar("T")
_EMPTY: Any = object()


class _Slot(Generic[T]):
    __slots__ = ("_ended", "_error", "_ready", "_take", "_values")

    def __init__(self, take: Callable[[T], bool] | None, every: bool) -> None:
        self._values: deque[T] = deque(maxlen=None if every else 1)
        self._ended = False
        self._error: BaseException | None = None
        self._ready = asyncio.Event()
        self._take = take

    def put(self, value: T) -> None:
        if self._take is not None and self._take(value):
            return
        self._values.append(value)
        self._ready.set()

    def end(self, error: BaseException | None) -> None:
        """No more values: the source is done (``error`` None) or failed."""
        self._ended, self._error = True, error
        self._ready.set()

    async def values(self) -> AsyncIterator[T]:
        while True:
            await self._ready.wait()
            self._ready.clear()
            while self._values:
                yield self._values.popleft()
            if self._error is not None:
                raise self._error
            if self._ended:
                return


class _Feed(Generic[T]):
    def __init__(self, source: AsyncIterator[T]) -> None:
        self.slots: set[_Slot[T]] = set()
        self.latest: T = _EMPTY
        # A feed serves many requests, so it runs in the context of none (nor of their traces).
        self.task = asyncio.create_task(
            self._run(source), name="live-feed", context=contextvars.Context()
        )

    async def _run(self, source: AsyncIterator[T]) -> None:
        try:
            async for value in source:
                self.latest = value
                for slot in self.slots:
                    slot.put(value)
        except Exception as error:  # every subscriber hears of it, as each would have alone
            failed: Exception | None = error
        else:
            failed = None
        for slot in self.slots:
            slot.end(failed)


class Feeds:
    """The running feeds of one process, by key."""

    def __init__(self) -> None:
        self._feeds: dict[Hashable, _Feed[Any]] = {}

    def __len__(self) -> int:
        return len(self._feeds)

    @asynccontextmanager
    async def join(
        self,
        key: Hashable,
        source: Callable[[], AsyncIterator[T]],
        *,
        take: Callable[[T], bool] | None = None,
        every: bool = False,
    ) -> AsyncIterator[AsyncIterator[T]]:
        """The values of the feed for ``key``, started with ``source()`` if none runs: the
        latest, or ``every`` one from now on. ``take``, when given, is offered each value first:
        those it takes (True) are not iterated."""
        found: _Feed[T] | None = self._feeds.get(key)
        if found is None or found.task.done():
            found = self._feeds[key] = _Feed(source())
        feed = found
        slot: _Slot[T] = _Slot(take, every)
        if feed.latest is not _EMPTY and not every:
            slot.put(feed.latest)
        feed.slots.add(slot)
        try:
            yield slot.values()
        finally:
            feed.slots.discard(slot)
            if not feed.slots:
                if self._feeds.get(key) is feed:
                    del self._feeds[key]
                feed.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await feed.task
