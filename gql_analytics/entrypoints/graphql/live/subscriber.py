"""What the live path reads of a GraphQL context (``context.Context`` is one): the live path
depends on these, not on the context module, which holds the live path's pieces."""

from __future__ import annotations

from contextlib import AbstractContextManager
from datetime import timedelta
from typing import Protocol, Self

from gql_analytics.entrypoints.graphql.live.admission import Admission
from gql_analytics.entrypoints.graphql.live.socket import LiveSocket
from gql_analytics.observability.metrics import Metrics
from gql_analytics.ports import LiveBus
from gql_analytics.services.analytics import AnalyticsService
from gql_analytics.services.auth.access import Principal
from gql_analytics.services.live.fanout import Feeds


class Subscriber(Protocol):
    """One subscription's context: who asks, how it is admitted, where its messages go."""

    @property
    def tenant(self) -> str: ...

    @property
    def auth(self) -> bool: ...

    @property
    def principal(self) -> Principal | None: ...

    @property
    def admission(self) -> Admission: ...

    @property
    def socket(self) -> LiveSocket | None: ...

    @property
    def feeds(self) -> Feeds: ...

    @property
    def metrics(self) -> Metrics: ...

    @property
    def service(self) -> AnalyticsService: ...

    @property
    def bus(self) -> LiveBus: ...

    @property
    def live_throttle(self) -> timedelta: ...

    def place(self) -> AbstractContextManager[None]: ...

    def pushed(self) -> None: ...

    def alone(self) -> Self:
        """This context for the one execution of a shared stream: admitted by the stream's
        subscribers, writing to no socket of its own."""
        ...
