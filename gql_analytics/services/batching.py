"""Loads asked in the same turn of the event loop, made in one call.

The live subscriptions that one commit wakes all ask at once; each asks for one key, and one
``load_many`` answers them together (a DataLoader without a cache, and without GraphQL).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class SameTurn(Generic[K, V]):
    def __init__(self, load_many: Callable[[Sequence[K]], Awaitable[list[V]]]) -> None:
        """``load_many``: the values of the keys, in their order."""
        self._load_many = load_many
        self._waiting: list[tuple[K, asyncio.Future[V]]] = []
        self._loads: set[asyncio.Task[None]] = set()

    async def load(self, key: K) -> V:
        loop = asyncio.get_running_loop()
        if not self._waiting:  # the first of this turn: the loads go once the turn is over
            loop.call_soon(self._dispatch)
        future: asyncio.Future[V] = loop.create_future()
        self._waiting.append((key, future))
        return await future

    def _dispatch(self) -> None:
        batch, self._waiting = self._waiting, []
        task = asyncio.ensure_future(self._load(batch))
        self._loads.add(task)
        task.add_done_callback(self._loads.discard)

    async def _load(self, batch: list[tuple[K, asyncio.Future[V]]]) -> None:
        try:
            values = await self._load_many([key for key, _ in batch])
        except Exception as error:
            for _, future in batch:
                if not future.done():
                    future.set_exception(error)
            return
        for (_, future), value in zip(batch, values, strict=True):
            if not future.done():  # its caller may have gone
                future.set_result(value)
