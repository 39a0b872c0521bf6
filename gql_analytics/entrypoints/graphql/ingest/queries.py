"""The consumer's progress."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql.context import Info
from gql_analytics.entrypoints.graphql.ingest.types import IngestStatus
from gql_analytics.entrypoints.graphql.roles import require_role


@strawberry.field(description="Progress of the Kafka consumer running in this process.")
async def ingest_status(info: Info) -> IngestStatus:
    require_role(info)
    return IngestStatus.from_domain(await info.context.service.ingest_status())
