"""The key repository's contract: hashes only, found by id, listed, revoked."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

from gql_analytics.domain.keys import new_key
from gql_analytics.ports import KeyRepository
from tests.contract.roles.records import T0


class KeyRepositoryContract:
    """``KeyRepository``, on the ``store`` an adapter's test class gives."""

    async def test_api_keys_are_stored_found_by_id_listed_and_revoked(
        self, store: KeyRepository
    ) -> None:
        text, key = new_key("acme", "read", T0, name="dashboards")
        _, other = new_key("globex", "admin", T0 + timedelta(seconds=1))
        await store.save_key(key)
        await store.save_key(other)
        assert text not in repr(await store.key(key.id))  # only its hash is kept
        assert await store.key(key.id) == key
        assert await store.key("nope") is None
        assert await store.keys("acme") == [key]
        assert await store.keys() == [key, other]
        revoked = replace(key, revoked_at=T0 + timedelta(hours=1))
        await store.save_key(revoked)
        assert await store.key(key.id) == revoked
