"""The overview a dashboard opens with."""

from __future__ import annotations

from datetime import datetime

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.services.answers import DashboardSummary


@strawberry.type
class Dashboard:
    total_events: int
    total_metric_points: int
    unique_event_names: int
    unique_metric_names: int
    event_names: list[str]
    metric_names: list[str]
    generated_at: datetime

    @classmethod
    def from_domain(cls, summary: DashboardSummary) -> Dashboard:
        return cls(
            total_events=summary.total_events,
            total_metric_points=summary.total_metric_points,
            unique_event_names=len(summary.event_names),
            unique_metric_names=len(summary.metric_names),
            event_names=summary.event_names,
            metric_names=summary.metric_names,
            generated_at=summary.generated_at,
        )


@strawberry.field
async def dashboard(info: Info) -> Dashboard:
    return Dashboard.from_domain(await info.context.service.dashboard(info.context.tenant))
