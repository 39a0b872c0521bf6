"""At most so many live subscriptions per tenant, across every socket and connection."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

from gql_analytics.errors import TooManySubscriptions
from gql_analytics.observability.metrics import Metrics


class SubscriptionQuota:
    def __init__(self, per_tenant: int, metrics: Metrics | None = None) -> None:
        self.per_tenant = per_tenant
        self._metrics = metrics
        self._held: Counter[str] = Counter()

    @contextmanager
    def hold(self, tenant: str) -> Iterator[None]:
        """A place for one subscription of the tenant while it lives."""
        if self._held[tenant] >= self.per_tenant:
            raise TooManySubscriptions(
                f"the tenant has {self.per_tenant} live subscriptions already, its limit"
            )
        self._held[tenant] += 1
        if self._metrics is not None:
            self._metrics.subscriptions.inc()
        try:
            yield
        finally:
            if self._metrics is not None:
                self._metrics.subscriptions.dec()
            self._held[tenant] -= 1
            if not self._held[tenant]:
                del self._held[tenant]
