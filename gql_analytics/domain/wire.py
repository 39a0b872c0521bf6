"""Canonical records as upstream messages: what the gateway itself produces to Kafka.

Events travel in the envelope shape (it carries the tenant, source and user), metric points in the
metric shape; ``normalize`` reads both back into equal records.
"""

from __future__ import annotations

from typing import Any

from gql_analytics.domain.records import Event, Record


def to_message(record: Record) -> dict[str, Any]:
    if isinstance(record, Event):
        message: dict[str, Any] = {
            "eventId": record.id,
            "eventType": record.name,
            "tenantId": record.tenant,
            "occurredAt": record.occurred_at.isoformat(),
            "payload": dict(record.properties),
            # Always written, null included: without it the reader takes a user from the
            # payload's userId, as it does for upstream messages of this shape.
            "userId": record.user_id,
        }
        if record.source is not None:
            message["source"] = record.source
        return message
    return {
        "id": record.id,
        "metric_name": record.name,
        "value": record.value,
        "tags": dict(record.tags),
        "tenantId": record.tenant,
        "timestamp": record.occurred_at.isoformat(),
    }
