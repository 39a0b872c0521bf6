"""Loads asked in one turn of the event loop are made together; each caller gets its own."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import pytest

from gql_analytics.services.batching import SameTurn


async def test_loads_asked_in_one_turn_are_made_in_one_call() -> None:
    calls: list[list[str]] = []

    async def upper(keys: Sequence[str]) -> list[str]:
        calls.append(list(keys))
        return [key.upper() for key in keys]

    batched = SameTurn(upper)
    assert await asyncio.gather(*(batched.load(k) for k in "abc")) == ["A", "B", "C"]
    assert await batched.load("d") == "D"
    assert calls == [["a", "b", "c"], ["d"]]


async def test_a_failed_load_fails_every_caller_of_its_turn_and_not_the_next() -> None:
    async def failing(keys: Sequence[int]) -> list[int]:
        if 0 in keys:
            raise ValueError("no zero")
        return list(keys)

    batched = SameTurn(failing)
    results = await asyncio.gather(batched.load(0), batched.load(1), return_exceptions=True)
    assert [type(r) for r in results] == [ValueError, ValueError]
    assert await batched.load(2) == 2


async def test_a_caller_that_leaves_does_not_keep_the_others_from_their_values() -> None:
    release = asyncio.Event()

    async def slow(keys: Sequence[int]) -> list[int]:
        await release.wait()
        return [key * 10 for key in keys]

    batched = SameTurn(slow)
    leaving = asyncio.ensure_future(batched.load(1))
    staying = asyncio.ensure_future(batched.load(2))
    await asyncio.sleep(0)
    leaving.cancel()
    release.set()
    assert await staying == 20
    with pytest.raises(asyncio.CancelledError):
        await leaving
