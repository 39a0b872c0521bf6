from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gql_analytics.domain.normalize import Origin, normalize
from gql_analytics.domain.records import Event, MetricPoint
from gql_analytics.domain.validation import Limits
from gql_analytics.domain.wire import to_message
from gql_analytics.errors import InvalidRecord

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
KAFKA = Origin(
    tenant="default",
    limits=Limits(NOW),
    fallback_id=lambda: "analytics.events:2:41",
    fallback_time=NOW - timedelta(minutes=3),
)


def test_flat_task_event_keeps_its_extra_keys_as_properties() -> None:
    record = normalize(
        {"event": "task_created", "user_id": "u1", "task_id": "t9", "prio": 2}, KAFKA
    )
    assert isinstance(record, Event)
    assert (record.name, record.user_id, record.task_id) == ("task_created", "u1", "t9")
    assert record.properties == {"task_id": "t9", "prio": 2}


def test_envelope_shape_takes_tenant_source_time_and_payload() -> None:
    record = normalize(
        {
            "eventType": "user_signup",
            "source": "auth-service",
            "occurredAt": "2026-11-20T11:00:00Z",
            "tenantId": "acme",
            "payload": {"userId": "u7", "plan": "pro"},
        },
        KAFKA,
    )
    assert isinstance(record, Event)
    assert record.tenant == "acme"
    assert record.source == "auth-service"
    assert record.user_id == "u7"
    assert record.occurred_at == datetime(2026, 11, 20, 11, 0, tzinfo=UTC)
    assert record.properties == {"userId": "u7", "plan": "pro"}


def test_event_name_shape_reads_epoch_milliseconds() -> None:
    millis = int((NOW - timedelta(seconds=30)).timestamp() * 1000)
    record = normalize(
        {"event_name": "login", "user_id": "u2", "properties": {"a": 1}, "timestamp": millis}, KAFKA
    )
    assert isinstance(record, Event)
    assert record.occurred_at == NOW - timedelta(seconds=30)
    assert record.properties == {"a": 1}


def test_metric_shape_becomes_a_metric_point() -> None:
    record = normalize(
        {"metric_name": "api_response_time", "value": 125.5, "tags": {"endpoint": "/x"}}, KAFKA
    )
    assert isinstance(record, MetricPoint)
    assert (record.name, record.value, dict(record.tags)) == (
        "api_response_time",
        125.5,
        {"endpoint": "/x"},
    )


@pytest.mark.parametrize("key", ["id", "event_id", "eventId"])
def test_id_is_taken_from_any_id_key(key: str) -> None:
    assert normalize({"event": "x", key: "abc"}, KAFKA).id == "abc"


def test_record_without_id_or_time_takes_the_origins() -> None:
    record = normalize({"event": "x"}, KAFKA)
    assert record.id == "analytics.events:2:41"
    assert record.occurred_at == NOW - timedelta(minutes=3)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ([1, 2], "message"),
        ({"something": "else"}, "message"),
        ({"event": "bad name!"}, "name"),
        ({"metric_name": "m", "value": "fast"}, "value"),
        ({"metric_name": "m", "value": float("nan")}, "value"),
        ({"event": "task_completed"}, "properties.task_id"),
        ({"event": "x", "timestamp": "yesterday"}, "timestamp"),
        ({"eventType": "x", "payload": [1]}, "payload"),
    ],
)
def test_unacceptable_messages_are_rejected_with_the_field(payload: object, field: str) -> None:
    with pytest.raises(InvalidRecord) as raised:
        normalize(payload, KAFKA)
    assert raised.value.field == field


@pytest.mark.parametrize(
    "record",
    [
        Event("e1", "task_created", "acme", NOW, NOW, "u1", "api", {"task_id": "t1", "n": 2}),
        Event("e2", "login", "default", NOW - timedelta(minutes=1), NOW),
        MetricPoint("m1", "latency", 12.5, "acme", NOW, NOW, {"region": "eu"}),
    ],
)
def test_produced_messages_read_back_as_equal_records(record: Event | MetricPoint) -> None:
    assert normalize(to_message(record), KAFKA) == record
