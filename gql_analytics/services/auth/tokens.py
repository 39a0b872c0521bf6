"""JWT bearer tokens (PyJWT): HS256 with a shared secret, or RS256/ES256 with the public keys of
a JWKS file; signature, expiry, issuer and audience checked; tenant and role read from claims."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt

from gql_analytics.domain.keys import ROLES
from gql_analytics.errors import Unauthenticated
from gql_analytics.services.auth.access import Principal

ASYMMETRIC = ["RS256", "ES256"]


@dataclass(frozen=True, slots=True)
class TokenRules:
    issuer: str
    audience: str
    secret: str | None = None  # HS256
    jwks_file: str | None = None  # RS256 / ES256
    tenant_claim: str = "tenant"
    role_claim: str = "role"


class TokenVerifier:
    def __init__(self, rules: TokenRules) -> None:
        if not rules.secret and not rules.jwks_file:
            raise ValueError("JWT: give a shared secret (HS256) or a JWKS file (RS256/ES256)")
        self._rules = rules
        self._keys: jwt.PyJWKSet | None = None
        if rules.jwks_file:
            self._keys = jwt.PyJWKSet.from_dict(json.loads(Path(rules.jwks_file).read_text()))

    def principal(self, token: str) -> Principal:
        rules = self._rules
        try:
            key, algorithms = self._key_for(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                issuer=rules.issuer,
                audience=rules.audience,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError:
            raise Unauthenticated("the token has expired") from None
        except jwt.InvalidAudienceError:
            raise Unauthenticated("the token is not meant for this gateway (audience)") from None
        except jwt.InvalidIssuerError:
            raise Unauthenticated("the token's issuer is not trusted") from None
        except (jwt.InvalidTokenError, jwt.PyJWKError, KeyError) as error:
            raise Unauthenticated(f"invalid token: {error}") from None
        for moment in ("exp", "nbf", "iat"):  # NumericDate is a JSON number (RFC 7519)
            if moment in claims and not _is_number(claims[moment]):
                raise Unauthenticated(f"the token's {moment!r} claim is not a number")
        tenant, role = claims.get(rules.tenant_claim), claims.get(rules.role_claim)
        if not isinstance(tenant, str) or not tenant.strip() or not tenant.isprintable():
            raise Unauthenticated(f"the token has no {rules.tenant_claim!r} claim")
        if role not in ROLES:
            raise Unauthenticated(f"the token's {rules.role_claim!r} claim is not one of {ROLES}")
        subject = claims.get("sub", "?")
        return Principal(tenant=tenant, role=str(role), credential=f"jwt {rules.issuer} {subject}")

    def _key_for(self, token: str) -> tuple[Any, list[str]]:
        if self._keys is None:
            return self._rules.secret, ["HS256"]
        header = jwt.get_unverified_header(token)
        return self._keys[header["kid"]].key, ASYMMETRIC


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
