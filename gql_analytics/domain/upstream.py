"""One raw upstream message (a Kafka record's value) as a record."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from gql_analytics.domain.normalize import Origin, normalize
from gql_analytics.domain.records import Record
from gql_analytics.domain.validation import Limits
from gql_analytics.errors import InvalidRecord

MessageKey = tuple[str, int, int]
"""A message's (topic, partition, offset)."""


def decode(
    value: bytes | None,
    key: MessageKey,
    timestamp_ms: int,
    limits: Limits,
    tenant: str,
) -> Record:
    """One message as a record; ``InvalidRecord`` (reason included) when it is poison.

    Without an id of its own a record's id is ``topic:partition:offset@timestamp``, so a
    redelivered message keeps it, and a message of a recreated topic that stands where an older
    one stood (the same offset, another time) is not taken for it; without a time of its own it
    takes the message's timestamp."""
    try:
        payload = json.loads(value or b"")
    except (ValueError, UnicodeDecodeError) as error:
        raise InvalidRecord("message", "is not JSON", reason="NOT_JSON") from error
    topic, partition, offset = key
    origin = Origin(
        tenant=tenant,
        limits=limits,
        fallback_id=lambda: f"{topic}:{partition}:{offset}@{timestamp_ms}",
        fallback_time=datetime.fromtimestamp(timestamp_ms / 1000, UTC),
    )
    return normalize(payload, origin)
