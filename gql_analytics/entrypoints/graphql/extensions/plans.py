"""``extensions.plan``: how each question in the answer was read (from rollups or by a scan of
raw records), so a slow dashboard can be told from a slow gateway."""

from __future__ import annotations

from typing import Any

from strawberry.extensions import SchemaExtension


class QueryPlans(SchemaExtension):
    def get_results(self) -> dict[str, Any]:
        context = self.execution_context.context
        plans = getattr(context, "plans", None)
        return {"plan": plans} if plans else {}
