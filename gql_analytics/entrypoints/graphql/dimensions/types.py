"""Declared dimensions as clients see them."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql_analytics.domain.dimensions import Declared, Dimensions
from gql_analytics.entrypoints.graphql.questions.types import RecordKind


@strawberry.type(
    description="An event property or metric tag the tenant's rollups are split by. Questions "
    "grouped or filtered by it are read from the rollups from `since` on (the next hour after "
    "it was declared and had settled), from raw records before."
)
class Dimension:
    of: RecordKind
    key: str
    declared_at: datetime
    since: datetime
    max_values: int
    overflowed: bool = strawberry.field(
        description="More distinct values than maxValues were written: past them, values count "
        'as "(other)" in the rollups, so questions on the key scan raw records.'
    )

    @classmethod
    def from_domain(cls, declared: Declared) -> Dimension:
        return cls(
            of=RecordKind(declared.kind),
            key=declared.key,
            declared_at=declared.declared_at,
            since=declared.since,
            max_values=declared.max_values,
            overflowed=declared.overflowed,
        )

    @classmethod
    def all_of(cls, dimensions: Dimensions) -> list[Dimension]:
        ordered = sorted(dimensions.declared, key=lambda d: (d.kind, d.key))
        return [cls.from_domain(d) for d in ordered]
