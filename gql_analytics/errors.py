"""The one error base of the gateway, and what each error means to a client.

    GatewayError                    code INTERNAL (never shown with details)
    ├── InvalidInput                code BAD_USER_INPUT: the request can be fixed by the caller
    │   ├── InvalidRecord           one record failed validation; carries the field it names
    │   ├── InvalidRange            a time range or interval that cannot be answered
    │   ├── InvalidCursor           a pagination cursor that this server did not issue
    │   └── InvalidAnalysis         an analysis its dataset or parameters cannot answer
    ├── BadRequest                  code BAD_REQUEST: a request GraphQL cannot take as it is (its
    │                               body, encoding, transport, or which operation it means)
    ├── Unauthenticated             code UNAUTHENTICATED: no credential, or one that is not valid
    ├── Forbidden                   code FORBIDDEN: a valid credential whose role may not do this
    ├── StoreUnavailable            code STORE_UNAVAILABLE: retriable, the store did not answer
    ├── CostLimitExceeded           code COST_LIMIT_EXCEEDED: a query whose answer would be larger
    │                               than the cost limit lets one be
    ├── BrokerUnavailable           code BROKER_UNAVAILABLE: retriable, Kafka did not acknowledge
    ├── NotYetApplied               code INGEST_TIMEOUT: retriable, produced but not applied in time
    └── AnalysisFailed              code ANALYSIS_FAILED: an analysis job past a limit or broken;
                                    the job ends FAILED with the message

The GraphQL layer maps an error to ``extensions.code`` through ``code``; ``retriable`` tells a
caller (or the ingest pipeline) whether trying again can succeed.
"""

from __future__ import annotations


class GatewayError(Exception):
    code = "INTERNAL"
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


class Unauthenticated(GatewayError):
    code = "UNAUTHENTICATED"


class Forbidden(GatewayError):
    code = "FORBIDDEN"


class CostLimitExceeded(GatewayError):
    code = "COST_LIMIT_EXCEEDED"


class StoreUnavailable(GatewayError):
    code = "STORE_UNAVAILABLE"
    retriable = True


class BrokerUnavailable(GatewayError):
    code = "BROKER_UNAVAILABLE"
    retriable = True


class NotYetApplied(GatewayError):
    code = "INGEST_TIMEOUT"
    retriable = True


class AnalysisFailed(GatewayError):
    code = "ANALYSIS_FAILED"
