"""``MongoStore``'s funnels and retention: the server narrows the raw events by tenant, range,
user and the steps' names (the ``(tenant, name, occurred_at)`` index); the per-user scan is
``domain.query.funnel``'s and ``domain.query.retention``'s, in this process.

That moves the steps' events of the range to the gateway, as ``question_reads.py`` does."""

from __future__ import annotations

from collections.abc import Sequence

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.query.funnel import Funnel, FunnelQuestion, funnel_of
from gql_analytics.domain.query.retention import RetentionQuestion, RetentionTable, retention_of
from gql_analytics.domain.query.steps import Step
from gql_analytics.domain.records import Event
from gql_analytics.domain.timerange import TimeRange


class JourneyReads(Database):
    """``JourneyReader``."""

    async def funnel(self, question: FunnelQuestion) -> Funnel:
        events = await self._step_events(question.tenant, question.time_range, question.steps)
        return funnel_of(question, events)

    async def cohort_retention(self, question: RetentionQuestion) -> RetentionTable:
        steps = (question.cohort, question.returning)
        events = await self._step_events(question.tenant, question.time_range, steps)
        return retention_of(question, events)

    async def _step_events(
        self, tenant: str, time_range: TimeRange, steps: Sequence[Step]
    ) -> list[Event]:
        wanted: Filter = {
            "tenant": tenant,
            "name": {"$in": sorted({step.name for step in steps})},
            "occurred_at": {"$gte": time_range.start, "$lt": time_range.end},
            "user_id": {"$ne": None},
        }

        async def read() -> list[Event]:
            documents = await self._db["events"].find(wanted).to_list()
            return [docs.event_of(document) for document in documents]

        return await self._run(read)
