"""Upstream shapes in, canonical records out.

Accepted shapes (each seen in real services of this kind)::

    {"event": "task_created", "user_id": ..., "task_id": ..., ...}          # flat event
    {"eventType": ..., "source": ..., "occurredAt": ..., "tenantId": ..., "payload": {...}}
    # ("tenantId" is read from any shape that carries it)
    {"event_name": ..., "user_id": ..., "properties": {...}, "timestamp": ...}
    {"metric_name": ..., "value": ..., "tags": {...}, "timestamp": ...}

The id comes from ``id``, ``event_id`` or ``eventId``; otherwise from the origin (a Kafka record's
topic, partition and offset, so a redelivered record keeps its id). A record without a timestamp
takes the origin's (the Kafka record timestamp, or the receive time).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from gql_analytics.domain import validation
from gql_analytics.domain.records import TASK_EVENT_NAMES, Event, MetricPoint, Record
from gql_analytics.errors import InvalidRecord

_ID_KEYS = ("id", "event_id", "eventId")
_TIME_KEYS = ("timestamp", "occurredAt", "occurred_at")
# Epoch numbers above this are milliseconds (1e11 seconds is the year 5138).
_MILLIS_THRESHOLD = 1e11


def _random_id() -> str:
    return uuid.uuid4().hex


@dataclass(frozen=True, slots=True)
class Origin:
    """What the transport knows about a record that the record itself may not carry."""

    tenant: str
    limits: validation.Limits
    fallback_id: Callable[[], str] = field(default=_random_id)
    fallback_time: datetime | None = None
    source: str | None = None

    @property
    def received_at(self) -> datetime:
        return self.limits.now


def build_event(
    origin: Origin,
    *,
    name: object,
    id: object = None,
    user_id: object = None,
    occurred_at: datetime | None = None,
    properties: object = None,
    source: object = None,
) -> Event:
    clean_name = validation.name(name)
    clean_properties = validation.properties(properties)
    event = Event(
        id=validation.text(id, "id") or origin.fallback_id(),
        name=clean_name,
        tenant=origin.tenant,
        occurred_at=origin.limits.occurred_at(occurred_at or origin.fallback_time),
        received_at=origin.received_at,
        user_id=validation.text(user_id, "userId"),
        source=validation.text(source, "source") or origin.source,
        properties=clean_properties,
    )
    if clean_name in TASK_EVENT_NAMES and event.task_id is None:
        raise InvalidRecord(
            "properties.task_id", f"is required for {clean_name} events", reason="NO_TASK_ID"
        )
    return event


def build_metric(
    origin: Origin,
    *,
    name: object,
    value: object,
    id: object = None,
    tags: object = None,
    occurred_at: datetime | None = None,
) -> MetricPoint:
    return MetricPoint(
        id=validation.text(id, "id") or origin.fallback_id(),
        name=validation.name(name),
        value=validation.value(value),
        tenant=origin.tenant,
        occurred_at=origin.limits.occurred_at(occurred_at or origin.fallback_time),
        received_at=origin.received_at,
        tags=validation.tags(tags),
    )


def normalize(payload: object, origin: Origin) -> Record:
    """One upstream message as a canonical record, or ``InvalidRecord`` saying why not."""
    if not isinstance(payload, Mapping):
        raise InvalidRecord("message", "must be a JSON object", reason="NOT_AN_OBJECT")
    record_id = next((payload[key] for key in _ID_KEYS if payload.get(key) is not None), None)
    occurred_at = _timestamp(payload)
    tenant = validation.text(payload.get("tenantId"), "tenantId")
    origin = origin if tenant is None else _with_tenant(origin, tenant)
    if "metric_name" in payload:
        return build_metric(
            origin,
            name=payload["metric_name"],
            value=payload.get("value"),
            id=record_id,
            tags=payload.get("tags"),
            occurred_at=occurred_at,
        )
    if "eventType" in payload:
        body = payload.get("payload")
        body = body if body is not None else {}
        if not isinstance(body, Mapping):
            raise InvalidRecord("payload", "must be a JSON object", reason="BAD_PROPERTIES")
        return build_event(
            origin,
            name=payload["eventType"],
            id=record_id,
            # An envelope's own userId, even null, wins over one inside its payload.
            user_id=payload["userId"]
            if "userId" in payload
            else body.get("userId", body.get("user_id")),
            occurred_at=occurred_at,
            properties=body,
            source=payload.get("source"),
        )
    if "event_name" in payload:
        return build_event(
            origin,
            name=payload["event_name"],
            id=record_id,
            user_id=payload.get("user_id"),
            occurred_at=occurred_at,
            properties=payload.get("properties"),
            source=payload.get("source"),
        )
    if "event" in payload:
        reserved = {"event", "user_id", "source", "tenantId", *_ID_KEYS, *_TIME_KEYS}
        return build_event(
            origin,
            name=payload["event"],
            id=record_id,
            user_id=payload.get("user_id"),
            occurred_at=occurred_at,
            properties={key: v for key, v in payload.items() if key not in reserved},
            source=payload.get("source"),
        )
    raise InvalidRecord(
        "message",
        "has none of the keys 'event', 'eventType', 'event_name' or 'metric_name'",
        reason="UNKNOWN_SHAPE",
    )


def _with_tenant(origin: Origin, tenant: str) -> Origin:
    return Origin(tenant, origin.limits, origin.fallback_id, origin.fallback_time, origin.source)


def _timestamp(payload: Mapping[str, Any]) -> datetime | None:
    key = next((key for key in _TIME_KEYS if payload.get(key) is not None), None)
    if key is None:
        return None
    raw = payload[key]
    if isinstance(raw, int | float) and not isinstance(raw, bool):
        seconds = raw / 1000 if raw > _MILLIS_THRESHOLD else raw
        try:
            return datetime.fromtimestamp(seconds, tz=UTC)
        except (OverflowError, OSError, ValueError) as error:
            raise InvalidRecord(key, "is not a valid epoch time", reason="BAD_TIME") from error
    if isinstance(raw, str):
        try:
            return datetime.fromisoformat(raw)
        except ValueError as error:
            raise InvalidRecord(key, "is not an ISO-8601 time", reason="BAD_TIME") from error
    raise InvalidRecord(key, "must be an ISO-8601 string or epoch number", reason="BAD_TIME")
