"""The one error base of the gateway, and what each error means to a client.

Each class carries its ``extensions.code`` and the HTTP status of a request refused with it
before GraphQL runs (an error inside an operation's answer leaves with that answer's status).

    GatewayError                    INTERNAL 500 (never shown with details)
    ├── InvalidInput                BAD_USER_INPUT 400: the request can be fixed by the caller
    │   ├── InvalidRecord           one record failed validation; carries the field it names
    │   ├── InvalidRange            a time range or interval that cannot be answered
    │   ├── InvalidCursor           a pagination cursor that this server did not issue
    │   └── InvalidAnalysis         an analysis its dataset or parameters cannot answer
    ├── BadRequest                  BAD_REQUEST 400: a request GraphQL cannot take as it is (its
    │                               body, encoding, transport, or which operation it means)
    ├── CSRFRefused                 CSRF_REFUSED 400: a request another site could have forged
    ├── PayloadTooLarge             PAYLOAD_TOO_LARGE 413: a body past --max-body-bytes
    ├── CostLimitExceeded           COST_LIMIT_EXCEEDED 400: a query whose answer would be
    │                               larger than the cost limit lets one be
    ├── PersistedQueryNotFound      PERSISTED_QUERY_NOT_FOUND 200: send the text with its hash
    ├── PersistedQueryNotAllowed    PERSISTED_QUERY_NOT_ALLOWED 400: not in --persisted-queries
    ├── Unauthenticated             UNAUTHENTICATED 401: no credential, or one that is not valid
    ├── Forbidden                   FORBIDDEN 403: a valid credential whose role may not do this
    ├── RateLimited                 RATE_LIMITED 429: retriable after ``retryAfter`` seconds
    ├── TooManySubscriptions        SUBSCRIPTION_LIMIT 429: retriable, the tenant's live
    │                               subscriptions are at --max-subscriptions-per-tenant
    ├── StoreUnavailable            STORE_UNAVAILABLE 503: retriable, the store did not answer
    ├── BrokerUnavailable           BROKER_UNAVAILABLE 503: retriable, Kafka did not acknowledge
    ├── NotYetApplied               INGEST_TIMEOUT 504: retriable, produced but not applied in time
    ├── ShuttingDown                SHUTTING_DOWN 503: retriable, the gateway is stopping (or not
    │                               started): another replica, or this one restarted, takes it
    └── AnalysisFailed              ANALYSIS_FAILED 500: an analysis job past a limit or broken;
                                    the job ends FAILED with the message

The GraphQL layer maps an error to ``extensions.code`` through ``code``; ``retriable`` tells a
caller (or the ingest pipeline) whether trying again can succeed.
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "INTERNAL"
    status = 500
    retriable = False

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def details(self) -> dict[str, object]:
        """What the error adds to ``extensions`` beside its code."""
        return {"field": self.field} if self.field else {}


class InvalidInput(GatewayError):
    code = "BAD_USER_INPUT"
    status = 400


class InvalidRecord(InvalidInput):
    """A record that cannot be stored; ``field`` names the offending field (camelCase)."""

    def __init__(self, field: str, message: str, *, reason: str = "INVALID") -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.reason = reason


class InvalidRange(InvalidInput):
    pass


class InvalidCursor(InvalidInput):
    pass


class InvalidAnalysis(InvalidInput):
    pass


class BadRequest(GatewayError):
    code = "BAD_REQUEST"
    status = 400


class CSRFRefused(GatewayError):
    code = "CSRF_REFUSED"
    status = 400


class PayloadTooLarge(GatewayError):
    code = "PAYLOAD_TOO_LARGE"
    status = 413


class CostLimitExceeded(GatewayError):
    code = "COST_LIMIT_EXCEEDED"
    status = 400


class PersistedQueryNotFound(GatewayError):
    code = "PERSISTED_QUERY_NOT_FOUND"
    status = 200  # Apollo's clients answer it by sending the text: no failure of the request


class PersistedQueryNotAllowed(GatewayError):
    code = "PERSISTED_QUERY_NOT_ALLOWED"
    status = 400


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"
    status = 401


class Forbidden(GatewayError):
    code = "FORBIDDEN"
    status = 403


class RateLimited(GatewayError):
    code = "RATE_LIMITED"
    status = 429
    retriable = True

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"too many requests: retry after {retry_after:.2f} s")
        self.retry_after = retry_after

    def details(self) -> dict[str, object]:
        return {"retryAfter": round(self.retry_after, 3)}


class TooManySubscriptions(GatewayError):
    code = "SUBSCRIPTION_LIMIT"
    status = 429
    retriable = True


class StoreUnavailable(GatewayError):
    code = "STORE_UNAVAILABLE"
    status = 503
    retriable = True


class BrokerUnavailable(GatewayError):
    code = "BROKER_UNAVAILABLE"
    status = 503
    retriable = True


class ShuttingDown(GatewayError):
    code = "SHUTTING_DOWN"
    status = 503
    retriable = True


class NotYetApplied(GatewayError):
    code = "INGEST_TIMEOUT"
    status = 504
    retriable = True


class AnalysisFailed(GatewayError):
    code = "ANALYSIS_FAILED"
