"""Credentials to principals: an API key or a JWT from ``Authorization: Bearer <credential>``,
or a key from ``X-API-Key`` (HTTP headers, or the same names in a WebSocket's
``connection_init`` payload)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gql_analytics.domain import keys
from gql_analytics.errors import Unauthenticated
from gql_analytics.ports import KeyRepository
from gql_analytics.services.auth.access import Principal
from gql_analytics.services.auth.tokens import TokenVerifier


def credential_in(fields: Mapping[str, Any]) -> str | None:
    """The credential of headers or a connection_init payload (names in any case)."""
    lowered = {str(name).lower(): value for name, value in fields.items()}
    bearer = lowered.get("authorization")
    if isinstance(bearer, str) and bearer.lower().startswith("bearer "):
        return bearer[7:].strip() or None
    key = lowered.get("x-api-key", lowered.get("apikey"))
    return key.strip() or None if isinstance(key, str) else None


class Authenticator:
    def __init__(self, store: KeyRepository, tokens: TokenVerifier | None = None) -> None:
        self._store = store
        self._tokens = tokens

    async def principal(self, credential: str) -> Principal:
        """Who the credential speaks for; ``Unauthenticated`` if nobody."""
        parsed = keys.parse(credential)
        if parsed is None:
            if self._tokens is not None and credential.count(".") == 2:
                return self._tokens.principal(credential)
            raise Unauthenticated("the credential is not an API key (or token) of this gateway")
        key_id, secret = parsed
        key = await self._store.key(key_id)
        if key is None or not keys.opens(key, secret):
            raise Unauthenticated("unknown API key")
        if key.revoked:
            raise Unauthenticated("the API key was revoked")
        return Principal(tenant=key.tenant, role=key.role, credential=key.id)
