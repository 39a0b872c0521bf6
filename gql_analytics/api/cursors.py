"""Opaque pagination cursors: base64 of a small JSON array. Any other string is refused."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import datetime

from gql_analytics.errors import InvalidCursor
from gql_analytics.ports import EventCursor

_PREFIX_EVENT = "ev"
_PREFIX_USER = "us"


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def _decode(cursor: str, prefix: str, length: int) -> list[str]:
    try:
        parts = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursor("after: not a cursor issued by this server", field="after") from error
    if (
        not isinstance(parts, list)
        or len(parts) != length
        or parts[0] != prefix
        or not all(isinstance(p, str) for p in parts)
    ):
        raise InvalidCursor("after: not a cursor issued by this server", field="after")
    return parts


def event_cursor(occurred_at: datetime, event_id: str) -> str:
    return _encode(_PREFIX_EVENT, occurred_at.isoformat(), event_id)


def parse_event_cursor(cursor: str) -> EventCursor:
    _, occurred_at, event_id = _decode(cursor, _PREFIX_EVENT, 3)
    try:
        return EventCursor(datetime.fromisoformat(occurred_at), event_id)
    except ValueError as error:
        raise InvalidCursor("after: not a cursor issued by this server", field="after") from error


def user_cursor(user_id: str) -> str:
    return _encode(_PREFIX_USER, user_id)


def parse_user_cursor(cursor: str) -> str:
    return _decode(cursor, _PREFIX_USER, 2)[1]
