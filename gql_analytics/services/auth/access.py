"""Who a request acts for, and what each role may do.

ingest  the ingest mutations only (trackEvent(s), recordMetric(s))
read    queries and subscriptions (but apiKeys and the gateway-wide ingestStatus)
admin   both, every other mutation (analysis jobs, keys), apiKeys and ingestStatus
"""

from __future__ import annotations

from dataclasses import dataclass

from gql_analytics.domain.keys import ADMIN, INGEST, READ

INGEST_FIELDS = frozenset({"trackEvent", "trackEvents", "recordMetric", "recordMetrics"})
ADMIN_QUERIES = frozenset({"apiKeys", "ingestStatus"})  # ingestStatus: gateway-wide


@dataclass(frozen=True, slots=True)
class Principal:
    tenant: str
    role: str
    credential: str  # the key id (or token subject) it was read from


def role_needed(operation: str, root_field: str) -> str:
    """The role an operation's root field asks for (admin may do all)."""
    if operation != "mutation":
        return ADMIN if root_field in ADMIN_QUERIES else READ
    return INGEST if root_field in INGEST_FIELDS else ADMIN


def may(principal: Principal, needed: str) -> bool:
    return principal.role in (needed, ADMIN)
