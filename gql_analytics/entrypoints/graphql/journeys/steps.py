"""A step of a funnel or a retention: events of one name, narrowed by a condition (the one
``aggregate``'s ``where`` takes)."""

from __future__ import annotations

import strawberry

from gql_analytics.domain.query.steps import Step
from gql_analytics.entrypoints.graphql.questions.types import Condition


@strawberry.input(description="A step: events of one name, narrowed by a condition if given.")
class JourneyStep:
    name: str
    where: Condition | None = None

    def to_domain(self, field: str) -> Step:
        where = None if self.where is None else self.where.to_domain(f"{field}.where")
        return Step(self.name, where)
