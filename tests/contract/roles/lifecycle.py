"""The lifecycle contract: a store that is up answers."""

from __future__ import annotations

from gql_analytics.ports import Lifecycle


class LifecycleContract:
    """``Lifecycle``, on the ``store`` an adapter's test class gives."""

    async def test_ping_answers_when_the_store_is_up(self, store: Lifecycle) -> None:
        await store.ping()
