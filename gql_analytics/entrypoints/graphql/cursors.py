"""Opaque pagination cursors: base64 of a small JSON array. Any other string is refused."""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime

from gql_analytics.entrypoints.graphql import json_body
from gql_analytics.errors import InvalidCursor
from gql_analytics.ports import EventCursor, JobCursor

_PREFIX_EVENT = "ev"
_PREFIX_USER = "us"
_PREFIX_JOB = "jb"
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9999, 1, 1, tzinfo=UTC)


def _encode(*parts: str) -> str:
    return base64.urlsafe_b64encode(json.dumps(parts).encode()).decode()


def _decode(cursor: str, prefix: str, length: int) -> list[str]:
    try:
        parts = json_body.decode(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError) as error:
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
    return EventCursor(_moment(occurred_at), event_id)


def job_cursor(created_at: datetime, job_id: str) -> str:
    return _encode(_PREFIX_JOB, created_at.isoformat(), job_id)


def parse_job_cursor(cursor: str) -> JobCursor:
    _, created_at, job_id = _decode(cursor, _PREFIX_JOB, 3)
    return JobCursor(_moment(created_at), job_id)


def _moment(text: str) -> datetime:
    """A cursor's time: one this server could have issued (an aware time in UTC's years 1970 to
    9998), so that no store is handed a time it cannot hold."""
    try:
        moment = datetime.fromisoformat(text)
        moment = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(UTC)
    except (ValueError, OverflowError) as error:
        raise InvalidCursor("after: not a cursor issued by this server", field="after") from error
    if not _EARLIEST <= moment < _LATEST:
        raise InvalidCursor("after: not a cursor issued by this server", field="after")
    return moment


def user_cursor(user_id: str) -> str:
    return _encode(_PREFIX_USER, user_id)


def parse_user_cursor(cursor: str) -> str:
    return _decode(cursor, _PREFIX_USER, 2)[1]
