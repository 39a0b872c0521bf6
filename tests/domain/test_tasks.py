from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from gql_analytics.domain.records import Event
from gql_analytics.domain.tasks import completion_seconds, fold_task_facts

T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def task_event(name: str, minutes: int, user: str | None = "u1", **props: object) -> Event:
    return Event(
        id=f"{name}-{minutes}-{props}",
        name=name,
        tenant="default",
        occurred_at=T0 + timedelta(minutes=minutes),
        received_at=T0,
        user_id=user,
        properties={"task_id": "t1", **props},
    )


FACTS = [
    task_event("task_created", 0),
    task_event("task_updated", 10, status="in_progress"),
    task_event("task_updated", 30, user="someone-else", status="done"),
    task_event("task_completed", 45),
]


@given(st.permutations(FACTS))
def test_task_state_is_the_same_whatever_order_facts_arrive_in(facts: list[Event]) -> None:
    (state,) = fold_task_facts(facts).values()
    assert state.user_id == "u1"
    assert state.created_at == T0
    assert state.completed_at == T0 + timedelta(minutes=30)
    assert state.status == "completed"
    assert completion_seconds(state.created_at, state.completed_at) == 1800.0


def test_completion_before_creation_arrives_is_kept_until_creation_comes() -> None:
    (early,) = fold_task_facts([task_event("task_completed", 20, user=None)]).values()
    assert early.created_at is None
    assert completion_seconds(early.created_at, early.completed_at) is None
    merged = early.merge(next(iter(fold_task_facts([task_event("task_created", 5)]).values())))
    assert completion_seconds(merged.created_at, merged.completed_at) == 900.0
    assert merged.user_id == "u1"


def test_camel_case_task_id_is_accepted() -> None:
    event = Event("e", "task_created", "default", T0, T0, "u1", None, {"taskId": "t7"})
    assert list(fold_task_facts([event])) == [("default", "t7")]


def test_other_events_are_not_tasks() -> None:
    assert fold_task_facts([Event("e", "login", "default", T0, T0, "u1")]) == {}
