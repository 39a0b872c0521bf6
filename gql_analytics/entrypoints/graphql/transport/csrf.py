"""Requests a browser could send cross-site without asking first are refused (CSRF).

A page on another site can make a browser send a GET, or a POST whose body is text/plain, a
form or multipart, with the user's cookies and without a CORS preflight. Such a request to
/graphql must carry a header no form can set (``GraphQL-Require-Preflight``, or Apollo's
``Apollo-Require-Preflight`` / ``X-Apollo-Operation-Name``), which forces the browser to ask
first; JSON POSTs force the preflight by their content type. GraphiQL's page (a GET without a
query) is served as before. The rule is Apollo Server's CSRF prevention.
"""

from __future__ import annotations

from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Receive, Scope, Send

from gql_analytics.entrypoints.graphql.errors import refusal_response
from gql_analytics.errors import CSRFRefused

PREFLIGHT_HEADERS = (
    "graphql-require-preflight",
    "apollo-require-preflight",
    "x-apollo-operation-name",
)
SIMPLE_TYPES = ("text/plain", "application/x-www-form-urlencoded", "multipart/form-data")


def could_be_forged(scope: Scope) -> bool:
    headers = Headers(scope=scope)
    if any(headers.get(name) for name in PREFLIGHT_HEADERS):
        return False
    if scope["method"] == "GET":
        return "query" in QueryParams(scope.get("query_string", b""))
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    return content_type in SIMPLE_TYPES or not content_type


class CSRFGuard:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and could_be_forged(scope):
            message = (
                "this request could be forged by another site: send JSON "
                "(Content-Type: application/json) or a GraphQL-Require-Preflight header"
            )
            await refusal_response(CSRFRefused(message))(scope, receive, send)
            return
        await self.app(scope, receive, send)
