"""Every GraphQL error leaves with ``extensions.code``; unexpected ones leave with nothing else.

GatewayError subclasses     -> their own code (BAD_USER_INPUT, STORE_UNAVAILABLE, ...)
parse errors                -> GRAPHQL_PARSE_FAILED
validation errors           -> GRAPHQL_VALIDATION_FAILED (unknown fields, wrong types)
values a scalar cannot read -> BAD_USER_INPUT (literals and variables alike)
anything else               -> INTERNAL, masked, logged with its stack and a request id
"""

from __future__ import annotations

import logging
import uuid

from graphql import ExecutionResult, GraphQLError
from starlette.responses import JSONResponse
from strawberry.extensions import MaskErrors
from strawberry.types import ExecutionContext

from gql_analytics.errors import GatewayError

log = logging.getLogger("gql_analytics.entrypoints.graphql")


def _code(error: GraphQLError) -> str | None:
    original = error.original_error
    if isinstance(original, GatewayError):
        return original.code
    if error.path is not None:
        return None  # raised while executing a resolver: not the client's doing
    if original is None:
        if error.message.startswith("Syntax Error"):
            return "GRAPHQL_PARSE_FAILED"
        return "GRAPHQL_VALIDATION_FAILED"
    # Before execution: a value that its scalar could not read (a literal or a variable).
    return "BAD_USER_INPUT"


def is_expected(error: GraphQLError) -> bool:
    return _code(error) is not None


class CodedErrors(MaskErrors):
    """Adds the code to expected errors and masks the rest (Strawberry's MaskErrors hook)."""

    def __init__(self) -> None:
        super().__init__(should_mask_error=lambda error: True, error_message="Internal error.")

    def anonymise_error(self, error: GraphQLError) -> GraphQLError:
        code = _code(error)
        extensions = dict(error.extensions or {})
        if code is not None:
            extensions["code"] = code
            if isinstance(error.original_error, GatewayError):
                extensions.update(error.original_error.details())
            return GraphQLError(
                error.message,
                error.nodes,
                error.source,
                error.positions,
                error.path,
                extensions=extensions,
            )
        request_id = uuid.uuid4().hex
        log.error(
            "unexpected error %s at %s", request_id, error.path, exc_info=error.original_error
        )
        masked = super().anonymise_error(error)
        masked.extensions = {"code": "INTERNAL", "requestId": request_id}
        return masked


def refusal(error: GatewayError) -> ExecutionResult:
    """The answer to an operation refused before it runs (set as the execution's result, so
    that nothing executes and the error is coded like any other)."""
    return ExecutionResult(data=None, errors=[GraphQLError(error.message, original_error=error)])


def refusal_response(refused: GatewayError, status: int | None = None) -> JSONResponse:
    """A request refused before GraphQL sees it, answered as GraphQL answers errors, with the
    error's own HTTP status unless ``status`` says otherwise."""
    extensions = {"code": refused.code, **refused.details()}
    error = {"message": refused.message, "extensions": extensions}
    return JSONResponse({"data": None, "errors": [error]}, status_code=status or refused.status)


def log_errors(errors: list[GraphQLError], execution_context: ExecutionContext | None) -> None:
    """Expected errors are the client's business: keep them out of the error log."""
    for error in errors:
        if is_expected(error):
            log.debug("client error: %s", error.message)
