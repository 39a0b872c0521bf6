"""JWT bearer tokens on a live server: HS256 with a secret, RS256 and ES256 from a JWKS file."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from gql_analytics.adapters.duckdb.store import DuckDBStore
from gql_analytics.bootstrap import create_app
from gql_analytics.services.analytics import utc_now
from gql_analytics.settings import Settings
from tests.api.sockets import TRANSPORT_WS, drain
from tests.support import DEADLINE, ServerThread, within

ISSUER, AUDIENCE, SECRET = "https://login.example", "gql-analytics", "s" * 32
TOP = "{ topEvents { name } }"
TRACK = 'mutation { trackEvent(input: {name: "signup"}) { accepted } }'


def claims(**changes: Any) -> dict[str, Any]:
    base = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "user-7",
        "tenant": "acme",
        "role": "read",
        "exp": utc_now() + timedelta(minutes=5),
    }
    return {k: v for k, v in (base | changes).items() if v is not None}


async def ask(server: ServerThread, token: str, query: str = TOP) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=server.base_url, timeout=DEADLINE) as http:
        response = await http.post(
            "/graphql", json={"query": query}, headers={"Authorization": f"Bearer {token}"}
        )
    body: dict[str, Any] = response.json()
    return body


def code(body: dict[str, Any]) -> str | None:
    return body["errors"][0]["extensions"]["code"] if body.get("errors") else None


@pytest.fixture
def hs256() -> Iterator[ServerThread]:
    settings = Settings(jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_secret=SECRET)
    with ServerThread(create_app(settings, store=DuckDBStore())) as server:
        yield server


async def test_a_signed_token_speaks_for_its_tenant_and_role(hs256: ServerThread) -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")
    assert (await ask(hs256, token))["data"] == {"topEvents": []}
    assert code(await ask(hs256, token, TRACK)) == "FORBIDDEN"  # role read
    writer = jwt.encode(claims(role="ingest"), SECRET, algorithm="HS256")
    assert code(await ask(hs256, writer, TRACK)) is None


@pytest.mark.parametrize(
    ("token", "complaint"),
    [
        (jwt.encode(claims(aud="someone-else"), SECRET, algorithm="HS256"), "audience"),
        (jwt.encode(claims(iss="https://evil.example"), SECRET, algorithm="HS256"), "issuer"),
        (
            jwt.encode(claims(exp=utc_now() - timedelta(seconds=5)), SECRET, algorithm="HS256"),
            "expired",
        ),
        (jwt.encode(claims(), "another secret" * 3, algorithm="HS256"), "invalid token"),
        (jwt.encode(claims(tenant=None), SECRET, algorithm="HS256"), "'tenant' claim"),
        (jwt.encode(claims(role="root"), SECRET, algorithm="HS256"), "'role' claim"),
        (jwt.encode(claims(exp=None), SECRET, algorithm="HS256"), "invalid token"),
        (jwt.encode(claims(), "", algorithm="none"), "invalid token"),
        (jwt.encode(claims(tenant="  "), SECRET, algorithm="HS256"), "'tenant' claim"),
        (jwt.encode(claims(tenant="a\nb"), SECRET, algorithm="HS256"), "'tenant' claim"),
        (
            jwt.encode(claims(exp=str(int(utc_now().timestamp()) + 300)), SECRET, "HS256"),
            "'exp' claim",
        ),
        (jwt.encode(claims(nbf="0"), SECRET, algorithm="HS256"), "'nbf' claim"),
    ],
    ids=[
        "audience",
        "issuer",
        "expired",
        "signature",
        "no tenant",
        "bad role",
        "no exp",
        "alg none",
        "blank tenant",
        "tenant with a control character",
        "exp as a string",
        "nbf as a string",
    ],
)
async def test_a_token_that_does_not_hold_is_refused(
    hs256: ServerThread, token: str, complaint: str
) -> None:
    body = await ask(hs256, token)
    assert code(body) == "UNAUTHENTICATED"
    assert complaint in body["errors"][0]["message"]


@pytest.fixture
def jwks(tmp_path: Path) -> Iterator[tuple[ServerThread, dict[str, Any]]]:
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ec_key = ec.generate_private_key(ec.SECP256R1())
    private: dict[str, Any] = {"rsa-1": rsa_key, "ec-1": ec_key}
    keys = [
        RSAAlgorithm.to_jwk(rsa_key.public_key(), as_dict=True)
        | {"kid": "rsa-1", "alg": "RS256", "use": "sig"},
        ECAlgorithm.to_jwk(ec_key.public_key(), as_dict=True)
        | {"kid": "ec-1", "alg": "ES256", "use": "sig"},
    ]
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": keys}))
    settings = Settings(jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_jwks_file=str(path))
    with ServerThread(create_app(settings, store=DuckDBStore())) as server:
        yield server, private


@pytest.mark.parametrize(("kid", "algorithm"), [("rsa-1", "RS256"), ("ec-1", "ES256")])
async def test_tokens_signed_by_a_key_of_the_jwks_file_are_accepted(
    jwks: tuple[ServerThread, dict[str, Any]], kid: str, algorithm: str
) -> None:
    server, private = jwks
    token = jwt.encode(claims(), private[kid], algorithm=algorithm, headers={"kid": kid})
    assert (await ask(server, token))["data"] == {"topEvents": []}
    stranger = ec.generate_private_key(ec.SECP256R1())
    forged = jwt.encode(claims(), stranger, algorithm="ES256", headers={"kid": "ec-1"})
    assert code(await ask(server, forged)) == "UNAUTHENTICATED"
    unknown = jwt.encode(claims(), private[kid], algorithm=algorithm, headers={"kid": "other"})
    assert code(await ask(server, unknown)) == "UNAUTHENTICATED"


def test_tokens_need_an_issuer_and_an_audience() -> None:
    with pytest.raises(ValueError, match="issuer"):
        create_app(Settings(jwt_secret=SECRET), store=DuckDBStore())


async def test_a_socket_is_closed_when_its_token_expires() -> None:
    settings = Settings(
        jwt_issuer=ISSUER, jwt_audience=AUDIENCE, jwt_secret=SECRET, credential_recheck=0.05
    )
    token = jwt.encode(claims(exp=utc_now() + timedelta(seconds=2)), SECRET, algorithm="HS256")
    with ServerThread(create_app(settings, store=DuckDBStore())) as server:
        async with connect(server.ws_url, subprotocols=[TRANSPORT_WS]) as connection:
            init = {"type": "connection_init", "payload": {"Authorization": f"Bearer {token}"}}
            await connection.send(json.dumps(init))
            assert json.loads(await within(connection.recv()))["type"] == "connection_ack"
            with pytest.raises(ConnectionClosed) as closed:
                await drain(connection)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4403
            assert "expired" in closed.value.rcvd.reason
