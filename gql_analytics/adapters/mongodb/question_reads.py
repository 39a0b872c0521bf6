"""``MongoStore``'s answers to questions: the server narrows the raw records by tenant, name and
range; the grouping and measures are ``domain.query.evaluate``'s, in this process.

That moves every matching record to the gateway: fine for the ranges dashboards ask of one
tenant, and the same answer a ``$group`` pipeline would give (the contract suite holds both
stores to a brute-force reference)."""

from __future__ import annotations

from gql_analytics.adapters.mongodb import documents as docs
from gql_analytics.adapters.mongodb.database import Database, Filter
from gql_analytics.domain.query import evaluate
from gql_analytics.domain.query.question import Cell, Question
from gql_analytics.domain.records import Record
from gql_analytics.domain.rollup import EVENT


class QuestionReads(Database):
    """``QuestionReader``."""

    async def answer(self, question: Question) -> list[Cell]:
        wanted: Filter = {
            "tenant": question.tenant,
            "occurred_at": {"$gte": question.time_range.start, "$lt": question.time_range.end},
        }
        if question.names is not None:
            wanted["name"] = {"$in": list(question.names)}
        collection, record_of = (
            ("events", docs.event_of)
            if question.kind == EVENT
            else ("metric_points", docs.point_of)
        )

        async def read() -> list[Cell]:
            documents = await self._db[collection].find(wanted).to_list()
            records: list[Record] = [record_of(document) for document in documents]
            return evaluate.answer(question, records)

        return await self._run(read)
