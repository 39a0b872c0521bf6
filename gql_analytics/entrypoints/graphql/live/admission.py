"""How an execution is admitted and counted: each subscriber on its own, or not at all.

An operation a client sends is admitted individually: it takes a token of its key's rate, a
live subscription holds a place in its tenant's quota while it lives, and each message pushed to
it is counted. A stream shared by identical subscriptions (``sharing``) runs its operation once
for all of them; they were admitted one by one when they joined, so that one execution is
admitted by nothing and counts nothing (``BY_ITS_SUBSCRIBERS``).
"""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from typing import Protocol

from gql_analytics.entrypoints.graphql.quota import SubscriptionQuota
from gql_analytics.entrypoints.graphql.rate_limit import RateLimiter
from gql_analytics.observability.metrics import Metrics
from gql_analytics.services.auth.access import Principal


class Admission(Protocol):
    @property
    def observed(self) -> bool:
        """Whether the execution is an operation of its own, counted and traced as one."""
        ...

    def take_token(self, principal: Principal) -> None:
        """A token of the principal's rate (``RateLimited`` when there is none)."""
        ...

    def place(self, tenant: str) -> AbstractContextManager[None]:
        """A place in the tenant's quota of live subscriptions while the subscription lives
        (``TooManySubscriptions`` when there is none)."""
        ...

    def pushed(self) -> None:
        """Counts a message pushed to the subscriber."""
        ...


class Individually:
    """What an operation a client sent is admitted by."""

    def __init__(
        self, quota: SubscriptionQuota, metrics: Metrics, limiter: RateLimiter | None
    ) -> None:
        self._quota = quota
        self._metrics = metrics
        self._limiter = limiter

    @property
    def observed(self) -> bool:
        return True

    def take_token(self, principal: Principal) -> None:
        if self._limiter is not None:
            self._limiter.take(principal.credential)

    def place(self, tenant: str) -> AbstractContextManager[None]:
        return self._quota.hold(tenant)

    def pushed(self) -> None:
        self._metrics.pushed.inc()


class _ByItsSubscribers:
    """The one execution of a shared stream: its subscribers were admitted as they joined, and
    each is counted as an operation of its own."""

    @property
    def observed(self) -> bool:
        return False

    def take_token(self, principal: Principal) -> None:
        return None

    def place(self, tenant: str) -> AbstractContextManager[None]:
        return nullcontext()

    def pushed(self) -> None:
        return None


BY_ITS_SUBSCRIBERS: Admission = _ByItsSubscribers()
