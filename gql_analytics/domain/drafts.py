"""What a client sent, not yet validated: a draft builds its record for an origin, or raises
``InvalidRecord`` saying why not. Whoever receives input (the GraphQL layer, a tracking API)
makes drafts of it; ingest knows nothing of where they came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gql_analytics.domain.normalize import Origin, build_event, build_metric
from gql_analytics.domain.records import Event, MetricPoint


@dataclass(frozen=True, slots=True)
class EventDraft:
    name: object
    id: object = None
    user_id: object = None
    occurred_at: datetime | None = None
    properties: object = None
    source: object = None

    def build(self, origin: Origin) -> Event:
        return build_event(
            origin,
            name=self.name,
            id=self.id,
            user_id=self.user_id,
            occurred_at=self.occurred_at,
            properties=self.properties,
            source=self.source,
        )


@dataclass(frozen=True, slots=True)
class MetricDraft:
    name: object
    value: object
    id: object = None
    tags: object = None
    occurred_at: datetime | None = None

    def build(self, origin: Origin) -> MetricPoint:
        return build_metric(
            origin,
            name=self.name,
            value=self.value,
            id=self.id,
            tags=self.tags,
            occurred_at=self.occurred_at,
        )


Draft = EventDraft | MetricDraft
