"""The live-value loop: pushes changes only, coalesces bursts, ignores the irrelevant."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from gql_analytics.adapters.live import InProcessBus
from gql_analytics.ports import Change
from gql_analytics.services.live.watch import seconds_to_next_minute, watch
from tests.support import NOW, within


def change(*names: str, tenant: str = "default") -> Change:
    return Change(tenant=tenant, event_names=frozenset(names), metric_names=frozenset())


class Answers:
    """A compute function that answers from a script and lets the test wait for each call."""

    def __init__(self, *values: int) -> None:
        self.values = list(values)
        self.calls = 0
        self.called = asyncio.Event()

    async def __call__(self) -> int:
        self.calls += 1
        self.called.set()
        return self.values[min(self.calls, len(self.values)) - 1]


async def test_a_burst_of_changes_is_one_recomputation_and_one_message() -> None:
    bus = InProcessBus()
    answers = Answers(0, 10)
    async with bus.subscribe("default") as changes:
        updates = watch(answers, changes, lambda c: "x" in c.event_names, throttle=timedelta(0))
        assert await within(anext(updates)) == 0
        for _ in range(10):
            await bus.publish(change("x"))
        assert await within(anext(updates)) == 10
        assert answers.calls == 2
        await updates.aclose()


async def test_an_unchanged_value_is_not_sent_again() -> None:
    bus = InProcessBus()
    answers = Answers(5, 5, 6)
    async with bus.subscribe("default") as changes:
        updates = watch(answers, changes, lambda c: True, throttle=timedelta(0))
        assert await within(anext(updates)) == 5
        pending = asyncio.ensure_future(anext(updates))
        answers.called.clear()
        await bus.publish(change("x"))
        await within(answers.called.wait())
        assert answers.calls == 2
        assert not pending.done()
        await bus.publish(change("x"))
        assert await within(pending) == 6
        await updates.aclose()


async def test_irrelevant_changes_cause_no_recomputation() -> None:
    bus = InProcessBus()
    answers = Answers(1, 2)
    async with bus.subscribe("default") as changes:
        updates = watch(answers, changes, lambda c: "x" in c.event_names, throttle=timedelta(0))
        assert await within(anext(updates)) == 1
        await bus.publish(change("y"))
        await bus.publish(change("x"))
        assert await within(anext(updates)) == 2
        assert answers.calls == 2
        await updates.aclose()


async def test_a_tick_recomputes_without_any_change() -> None:
    bus = InProcessBus()
    answers = Answers(1, 2)
    async with bus.subscribe("default") as changes:
        updates = watch(
            answers, changes, lambda c: False, throttle=timedelta(0), next_tick=lambda: 0.0
        )
        assert await within(anext(updates)) == 1
        assert await within(anext(updates)) == 2
        await updates.aclose()


async def test_changes_of_other_tenants_are_not_delivered() -> None:
    bus = InProcessBus()
    async with bus.subscribe("a") as changes:
        await bus.publish(change("x", tenant="b"))
        await bus.publish(change("y", tenant="a"))
        received = await within(anext(changes))
        assert received.event_names == {"y"}
    assert bus.subscriber_count == 0


async def test_a_slow_subscriber_keeps_the_newest_changes() -> None:
    bus = InProcessBus(queue_size=2)
    async with bus.subscribe("default") as changes:
        for name in ("a", "b", "c"):
            await bus.publish(change(name))
        assert (await within(anext(changes))).event_names == {"b"}
        assert (await within(anext(changes))).event_names == {"c"}


def test_the_next_tick_is_the_next_minute_boundary() -> None:
    assert seconds_to_next_minute(NOW) == 30.0
