"""What a question can name of a record: a dimension to group or filter by, or a value to measure."""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from typing import Any

from gql_analytics.domain.records import Event, Record
from gql_analytics.domain.rollup import EVENT, METRIC
from gql_analytics.errors import InvalidInput


class Attribute(enum.Enum):
    NAME = "name"
    SOURCE = "source"
    USER = "user"
    PROPERTY = "property"  # an event property, by key
    TAG = "tag"  # a metric point's tag, by key
    VALUE = "value"  # a metric point's value


KEYED = frozenset({Attribute.PROPERTY, Attribute.TAG})
OF_KIND = {
    EVENT: frozenset({Attribute.NAME, Attribute.SOURCE, Attribute.USER, Attribute.PROPERTY}),
    METRIC: frozenset({Attribute.NAME, Attribute.TAG, Attribute.VALUE}),
}


@dataclass(frozen=True, slots=True)
class Field:
    attribute: Attribute
    key: str | None = None

    def check(self, kind: str, where: str) -> None:
        """Refuse a field the records of ``kind`` do not have, or a key given where none fits."""
        if self.attribute not in OF_KIND[kind]:
            have = ", ".join(sorted(a.name for a in OF_KIND[kind]))
            raise InvalidInput(
                f"{where}: {kind} records have no {self.attribute.name} (they have: {have})",
                field=where,
            )
        if (self.attribute in KEYED) != bool(self.key):
            wanted = "needs a key" if self.attribute in KEYED else "takes no key"
            raise InvalidInput(f"{where}: {self.attribute.name} {wanted}", field=where)

    def of(self, record: Record) -> Any:
        """This field's raw value in ``record``; None when the record lacks it."""
        attribute = self.attribute
        if attribute is Attribute.NAME:
            return record.name
        if isinstance(record, Event):
            if attribute is Attribute.PROPERTY:
                return record.properties.get(self.key or "")
            if attribute is Attribute.USER:
                return record.user_id
            if attribute is Attribute.SOURCE:
                return record.source
            return None
        if attribute is Attribute.TAG:
            return record.tags.get(self.key or "")
        return record.value if attribute is Attribute.VALUE else None

    @property
    def label(self) -> str:
        return f"{self.attribute.value}:{self.key}" if self.key else self.attribute.value


def text_of(value: Any) -> str | None:
    """A value as a group key: strings as they are, anything else as its JSON text."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def number_of(value: Any) -> float | None:
    """A value a numeric measure or comparison reads: JSON numbers only (not booleans)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return float(value)
    except OverflowError:  # an integer beyond the range of a double
        return None
