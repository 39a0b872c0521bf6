"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry import Info as _Info

from gql_analytics.entrypoints.graphql.live.admission import BY_ITS_SUBSCRIBERS, Admission
from gql_analytics.entrypoints.graphql.live.socket import LiveSocket
from gql_analytics.errors import GatewayError
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import LiveBus
from gql_analytics.services.analysis.service import AnalysisService
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.auth.access import Principal
from gql_analytics.services.live.fanout import Feeds


@dataclass
class Context:
    service: AnalyticsService
    analysis: AnalysisService
    bus: LiveBus
    tenant: str
    live_throttle: timedelta
    request: Request | WebSocket
    admission: Admission  # how this execution is admitted and counted
    metrics: Metrics
    feeds: Feeds
    auth: bool = False
    principal: Principal | None = None
    auth_error: GatewayError | None = None  # why the credential sent speaks for nobody
    credential: str | None = None  # the one the principal was read from
    connection_params: dict[str, Any] | None = None  # a WebSocket's connection_init payload
    socket: LiveSocket | None = None  # a WebSocket's, for the messages of shared streams
    plans: list[dict[str, object]] = field(default_factory=list)  # how each answer was read

    def place(self) -> AbstractContextManager[None]:
        """A place in the tenant's quota of live subscriptions while this one lives."""
        return self.admission.place(self.tenant)

    def pushed(self) -> None:
        """Counts a message pushed to this subscriber."""
        self.admission.pushed()

    def own(self) -> Context:
        """This context for one operation of its socket (a socket's operations share one
        context; a live query swaps the service its fields read through, in its own copy)."""
        return replace(self, plans=[])

    def alone(self) -> Context:
        """This context for the one execution of a shared stream (``live.sharing``): admitted
        by the stream's subscribers, writing to no socket of its own."""
        return replace(self, admission=BY_ITS_SUBSCRIBERS, socket=None)


Info = _Info[Context, None]
