"""API keys: ``gqa_<id>_<secret>``, shown once; the store keeps only the id and a hash.

The secret is 256 random bits, so a fast hash (SHA-256) is enough to make a stolen table
useless, as GitHub and Stripe do for their tokens; the id finds the row without a scan.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime

from gql_analytics.errors import InvalidInput

PREFIX = "gqa"
INGEST = "ingest"
READ = "read"
ADMIN = "admin"
ROLES = (INGEST, READ, ADMIN)


@dataclass(frozen=True, slots=True)
class ApiKey:
    id: str
    tenant: str
    role: str
    secret_hash: str
    created_at: datetime
    name: str | None = None
    revoked_at: datetime | None = None

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_role(role: str) -> None:
    if role not in ROLES:
        raise InvalidInput(f"role: one of {', '.join(ROLES)}", field="role")


def new_key(tenant: str, role: str, now: datetime, name: str | None = None) -> tuple[str, ApiKey]:
    """The key's text (to give to its holder, never stored) and the record to store;
    ``InvalidInput`` for a role that is not one."""
    check_role(role)
    key_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
    return f"{PREFIX}_{key_id}_{secret}", ApiKey(key_id, tenant, role, _hash(secret), now, name)


def parse(text: str) -> tuple[str, str] | None:
    """(id, secret) of a key's text, or None if it is not shaped as one."""
    prefix, _, rest = text.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    return key_id, secret


def opens(key: ApiKey, secret: str) -> bool:
    return hmac.compare_digest(key.secret_hash, _hash(secret))
