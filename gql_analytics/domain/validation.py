"""Field rules shared by every way a record enters: GraphQL inputs and upstream shapes alike.

Each check returns the clean value or raises ``InvalidRecord`` naming the field (camelCase, as
the client spelled it in the API).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from gql_analytics.domain import sketch
from gql_analytics.domain.timerange import as_utc
from gql_analytics.errors import InvalidInput, InvalidRecord

NAME_PATTERN = re.compile(r"[A-Za-z0-9_.:\-]{1,120}")
MAX_PROPERTIES_BYTES = 32 * 1024
MAX_NAMES = 100  # names one question may list
MAX_TAGS = 20
MAX_TEXT = 200
MAX_VALUE = sketch.MAX_MAGNITUDE  # the largest magnitude the histogram's bins tell apart
MAX_FUTURE = timedelta(minutes=5)
_LONE = re.compile(r"[\ud800-\udfff]")  # a surrogate in a Python str has no partner: no character
_CONTROL = re.compile(r"[\x00-\x1f\x7f\ud800-\udfff]")
# A UTF-16 surrogate escape in JSON output that is not half of a pair: no character at all.


@dataclass(frozen=True, slots=True)
class Limits:
    """The time bounds a record must fall in when it is received."""

    now: datetime
    retention: timedelta | None = None

    def occurred_at(self, value: datetime | None, field: str = "occurredAt") -> datetime:
        if value is None:
            return self.now
        moment = as_utc(value)
        if moment > self.now + MAX_FUTURE:
            raise InvalidRecord(field, "is more than 5 minutes in the future", reason="FUTURE")
        if self.retention is not None and moment < self.now - self.retention:
            raise InvalidRecord(
                field, "is older than the raw-data retention period", reason="TOO_OLD"
            )
        return moment


def name(value: object, field: str = "name") -> str:
    if not isinstance(value, str) or not NAME_PATTERN.fullmatch(value):
        raise InvalidRecord(
            field, "must be 1-120 characters of letters, digits and _ . : -", reason="BAD_NAME"
        )
    return value


def text(value: object, field: str) -> str | None:
    """An optional identifier-like string: ids, user ids, sources."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not 1 <= len(value) <= MAX_TEXT or _CONTROL.search(value):
        raise InvalidRecord(
            field, f"must be a string of 1-{MAX_TEXT} printable characters", reason="BAD_TEXT"
        )
    return value


def value(raw: object, field: str = "value") -> float:
    if isinstance(raw, bool) or not isinstance(raw, int | float):
        raise InvalidRecord(field, "must be a number", reason="BAD_VALUE")
    try:
        number = float(raw)
    except OverflowError:  # an integer beyond the range of a double
        number = math.inf
    if not math.isfinite(number):
        raise InvalidRecord(field, "must be finite", reason="BAD_VALUE")
    if abs(number) > MAX_VALUE:
        # Beyond it the histogram cannot place a value, and sums of squares could overflow.
        raise InvalidRecord(field, "must be at most 1e15 in magnitude", reason="BAD_VALUE")
    return number


def properties(raw: object, field: str = "properties") -> dict[str, Any]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidRecord(field, "must be a JSON object", reason="BAD_PROPERTIES")
    try:
        encoded = json.dumps(raw, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    except (TypeError, ValueError) as error:
        raise InvalidRecord(field, "must be plain JSON", reason="BAD_PROPERTIES") from error
    try:
        size = len(encoded.encode())  # UTF-8 bytes, as stored: not six for each non-ASCII one
    except UnicodeEncodeError as error:  # a lone surrogate
        raise InvalidRecord(field, "must be valid Unicode", reason="BAD_PROPERTIES") from error
    if size > MAX_PROPERTIES_BYTES:
        raise InvalidRecord(field, "must be at most 32 KB as JSON", reason="TOO_LARGE")
    return dict(raw)


def tags(raw: object, field: str = "tags") -> dict[str, str]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise InvalidRecord(field, "must be an object of string values", reason="BAD_TAGS")
    if len(raw) > MAX_TAGS:
        raise InvalidRecord(field, f"must have at most {MAX_TAGS} tags", reason="BAD_TAGS")
    clean: dict[str, str] = {}
    for key, tag_value in raw.items():
        name(key, f"{field}.{key}")
        if not isinstance(tag_value, str) or len(tag_value) > MAX_TEXT or _LONE.search(tag_value):
            raise InvalidRecord(
                f"{field}.{key}",
                f"must be a string of at most {MAX_TEXT} characters",
                reason="BAD_TAGS",
            )
        clean[key] = tag_value
    return clean


def names_asked(names: Sequence[str] | None, field: str = "names") -> None:
    """A question lists at most ``MAX_NAMES`` names (each a series to read and answer)."""
    if names is not None and len(names) > MAX_NAMES:
        raise InvalidInput(f"{field}: at most {MAX_NAMES} names, got {len(names)}", field=field)
