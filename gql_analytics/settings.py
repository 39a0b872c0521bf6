"""Settings from command-line flags, falling back to GQL_ANALYTICS_* environment variables."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from gql_analytics.domain.jobs import AnalysisLimits
from gql_analytics.services.auth.tokens import TokenRules

ENV_PREFIX = "GQL_ANALYTICS_"
DEFAULT_STORE_URL = "duckdb:///./data/analytics.duckdb"
DEFAULT_TOPICS = ("analytics.events", "analytics.metrics", "analytics.tasks")
# What the consumer does with a partition whose log does not hold the store's position for it
# (the topic was recreated, the broker lost its data): read it from its start (records are
# counted once by id), or pause the partition (logged, shown in ingestStatus) for an operator.
POSITION_RESETS = ("earliest", "pause")


TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting that cannot be read, named by its variable: start-up stops on it."""


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What one GraphQL document may ask, checked before it runs."""

    depth: int = 10
    aliases: int = 30
    tokens: int = 5_000
    cost: int = 10_000
    operations: int = 10


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    store_url: str = DEFAULT_STORE_URL
    retention_days: int = 90
    live_throttle_ms: int = 250
    log_level: str = "info"
    kafka_bootstrap_servers: str | None = None
    kafka_topics: tuple[str, ...] = DEFAULT_TOPICS
    kafka_group_id: str = "gql-analytics"
    kafka_dlq_suffix: str = ".dlq"
    kafka_live_topic: str = "analytics.live"
    kafka_idempotence: bool = False
    kafka_timeout: float = 5.0
    kafka_on_position_reset: str = "earliest"
    store_min_free_mb: int = 64
    ready_timeout: float = 2.0
    analysis_rows: int = 1_000_000
    analysis_seconds: float = 60.0
    analysis_workers: int = 2
    max_query_depth: int = 10
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_cost: int = 10_000
    max_body_bytes: int = 1_000_000
    max_subscriptions_per_connection: int = 50
    max_subscriptions_per_tenant: int = 1_000
    query_cache_entries: int = 1_000
    persisted_queries: str | None = None
    persisted_only: bool = False
    connection_init_timeout: float = 10.0
    cors_origins: tuple[str, ...] = ()
    auth: bool = True
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    jwt_secret: str | None = None
    jwt_jwks_file: str | None = None
    jwt_tenant_claim: str = "tenant"
    jwt_role_claim: str = "role"
    credential_recheck: float = 5.0
    metrics_token: str | None = None
    rate_limit: float = 50.0
    rate_burst: int = 100
    production: bool = False
    introspection: bool = True
    graphiql: bool = True
    tracing: bool = True
    metrics: bool = True
    ws_compression: bool = False

    def __post_init__(self) -> None:
        if self.kafka_on_position_reset not in POSITION_RESETS:
            raise SettingsError(
                f"{ENV_PREFIX}KAFKA_ON_POSITION_RESET (--kafka-on-position-reset): "
                f"{self.kafka_on_position_reset!r} is not one of {', '.join(POSITION_RESETS)}"
            )

    @property
    def introspection_on(self) -> bool:
        return self.introspection and not self.production

    @property
    def graphiql_on(self) -> bool:
        return self.graphiql and not self.production

    @property
    def kafka_ingest_topic(self) -> str:
        """Where ingest mutations produce when Kafka is on: the first of the consumed topics."""
        return self.kafka_topics[0]

    @property
    def store_min_free_bytes(self) -> int:
        return self.store_min_free_mb * 1024 * 1024

    @property
    def retention(self) -> timedelta | None:
        return timedelta(days=self.retention_days) if self.retention_days > 0 else None

    @property
    def analysis_limits(self) -> AnalysisLimits:
        return AnalysisLimits(self.analysis_rows, self.analysis_seconds, self.analysis_workers)

    @property
    def document_limits(self) -> DocumentLimits:
        return DocumentLimits(
            self.max_query_depth, self.max_aliases, self.max_tokens, self.max_cost
        )

    @property
    def token_rules(self) -> TokenRules | None:
        """JWT rules when tokens are configured (a secret or a JWKS file; issuer and audience
        are then required)."""
        if not (self.jwt_secret or self.jwt_jwks_file):
            return None
        if not (self.jwt_issuer and self.jwt_audience):
            raise SettingsError("JWTs need --jwt-issuer and --jwt-audience: both are checked")
        return TokenRules(
            issuer=self.jwt_issuer,
            audience=self.jwt_audience,
            secret=self.jwt_secret,
            jwks_file=self.jwt_jwks_file,
            tenant_claim=self.jwt_tenant_claim,
            role_claim=self.jwt_role_claim,
        )

    @property
    def live_throttle(self) -> timedelta:
        return timedelta(milliseconds=self.live_throttle_ms)


# Numeric settings: flag --field-name, variable GQL_ANALYTICS_FIELD_NAME, typed as the default.
NUMBERS: dict[str, str] = {
    "port": "port to serve on",
    "retention_days": "days raw records are kept (rollups are kept for good); 0 keeps them for ever",
    "live_throttle_ms": "least time between two messages of one subscription",
    "analysis_rows": "most rows an analysis dataset may have; a larger one fails its job",
    "analysis_seconds": "longest an analysis may compute before its job fails",
    "analysis_workers": "analysis worker processes: jobs that run at once (the rest wait, QUEUED)",
    "max_query_depth": "deepest nesting of fields in a document",
    "max_aliases": "aliases in a document, counted through fragments",
    "max_tokens": "tokens in a document (parsing stops past it)",
    "max_cost": "cost of a document: each field times the size of every list it sits in"
    " (see Reading data)",
    "max_body_bytes": "bytes of a request body (413 past it)",
    "max_subscriptions_per_connection": "operations at once on one WebSocket (more get an error"
    " message)",
    "max_subscriptions_per_tenant": "live subscriptions of one tenant, over every socket (more"
    " get SUBSCRIPTION_LIMIT)",
    "connection_init_timeout": "seconds a WebSocket may wait before connection_init (then 4408,"
    " both protocols)",
    "credential_recheck": "seconds between checks of an open socket's credential",
    "rate_limit": "operations a second per credential, on average; 0: off",
    "rate_burst": "operations a credential may send at once before the rate applies",
    "query_cache_entries": "answers kept for repeated queries (never stale); 0: no cache",
    "kafka_timeout": "seconds the broker may take to acknowledge a mutation's records (then"
    " BROKER_UNAVAILABLE)",
    "store_min_free_mb": "MB free on a DuckDB file's disk below which /ready says the store"
    " cannot take writes",
    "ready_timeout": "seconds /ready waits for the store and the broker to answer",
}
TEXTS: dict[str, str] = {  # likewise, for text settings with a default
    "host": "address to serve on (--no-auth only on a loopback one)",
    "store_url": "duckdb:///path/file.duckdb, duckdb:///:memory: or mongodb://... (MongoDB: for"
    " several processes)",
    "log_level": "debug, info, warning or error",
    "kafka_group_id": "the consumer group",
    "kafka_dlq_suffix": "appended to a topic's name for its dead letters",
    "kafka_live_topic": "the topic replicas share live changes through (with Kafka on)",
    "kafka_on_position_reset": "when a partition's log is younger than the store's position"
    " (topic recreated, broker data lost): earliest (read it again from its start) or pause",
    "jwt_tenant_claim": "the JWT claim naming the tenant",
    "jwt_role_claim": "the JWT claim naming the role",
}
OPTIONAL: dict[str, str] = {  # text settings off unless given
    "kafka_bootstrap_servers": "host:port[,host:port] of Kafka; turns on the consumer",
    "jwt_issuer": "JWTs: the iss every token must carry",
    "jwt_audience": "JWTs: the aud every token must carry",
    "jwt_secret": "JWTs signed HS256 with this shared secret",
    "jwt_jwks_file": "JWTs signed RS256/ES256 by a key of this JWKS file",
    "metrics_token": "the token a Prometheus scraper sends for /metrics (when auth is on)",
    "persisted_queries": "a persisted query manifest (JSON) of operations registered up front",
}
SWITCHES: dict[str, str] = {  # --name / --no-name
    "kafka_idempotence": "idempotent producer (needs InitProducerId; ids already make retries safe)",
    "production": "production: introspection and GraphiQL off",
    "persisted_only": "run only the operations of --persisted-queries (an allow-list)",
    "introspection": "answer introspection queries",
    "graphiql": "serve GraphiQL to browsers on GET /graphql",
    "tracing": "OpenTelemetry spans (exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set)",
    "metrics": "serve /metrics and time every GraphQL operation",
    "ws_compression": "compress WebSocket messages (permessage-deflate) when a client offers it:"
    " deflating each small live message costs more CPU than the rest of sending it",
}
LISTS: dict[str, str] = {  # comma-separated
    "kafka_topics": "topics to consume (comma-separated); mutations produce to the first",
    "cors_origins": "origins whose browser pages may call the API (comma-separated)",
}
AUTH = (
    "API keys and JWTs (`none` turns auth off: for local development, on a loopback address only)"
)
FLAG_NAMES = {"store_url": "--store", "kafka_bootstrap_servers": "--kafka"}


def _flag(field: str) -> str:
    return FLAG_NAMES.get(field, "--" + field.replace("_", "-"))


def _number(variable: str, text: str, kind: type[int] | type[float]) -> int | float:
    try:
        return kind(text)
    except ValueError:
        wanted = "a whole number" if kind is int else "a number"
        raise SettingsError(f"{variable}: {text!r} is not {wanted}") from None


def _switch(variable: str, text: str) -> bool:
    said = text.strip().lower()
    if said in TRUE or said in FALSE:
        return said in TRUE
    raise SettingsError(f"{variable}: {text!r} is not one of 1/0, true/false, yes/no or on/off")


def _auth(variable: str, text: str) -> bool:
    said = text.strip().lower()
    if said in {"keys", *TRUE} or said in {"none", *FALSE}:
        return said in {"keys", *TRUE}
    raise SettingsError(f"{variable}: {text!r} is not one of keys (on) or none (off)")


def add_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """Flags whose defaults come from the environment, so a flag always wins over a variable;
    a variable that cannot be read raises ``SettingsError`` naming it."""
    env = os.environ if env is None else env
    defaults = Settings()

    def variable(field: str) -> str:
        return ENV_PREFIX + field.upper()

    for field, what in NUMBERS.items():
        kind = type(getattr(defaults, field))
        given = env.get(variable(field))
        default = (
            getattr(defaults, field) if given is None else _number(variable(field), given, kind)
        )
        parser.add_argument(_flag(field), dest=field, type=kind, default=default, help=what)
    for field, what in TEXTS.items():
        default = env.get(variable(field), getattr(defaults, field))
        parser.add_argument(_flag(field), dest=field, default=default, help=what)
    for field, what in OPTIONAL.items():
        parser.add_argument(
            _flag(field), dest=field, default=env.get(ENV_PREFIX + field.upper()), help=what
        )
    for field, what in SWITCHES.items():
        given = env.get(variable(field))
        parser.add_argument(
            _flag(field),
            dest=field,
            action=argparse.BooleanOptionalAction,
            default=getattr(defaults, field) if given is None else _switch(variable(field), given),
            help=what,
        )
    for field, what in LISTS.items():
        default = env.get(variable(field), ",".join(getattr(defaults, field)))
        parser.add_argument(_flag(field), dest=field, default=default, help=what)
    given = env.get(variable("auth"))
    parser.add_argument(
        "--auth",
        action=argparse.BooleanOptionalAction,
        default=defaults.auth if given is None else _auth(variable("auth"), given),
        help=AUTH,
    )


def from_arguments(arguments: argparse.Namespace) -> Settings:
    fields = (*NUMBERS, *TEXTS, *OPTIONAL, *SWITCHES)
    given = {field: getattr(arguments, field) for field in fields}
    return Settings(
        **given | {"kafka_bootstrap_servers": arguments.kafka_bootstrap_servers or None},
        kafka_topics=_listed(arguments.kafka_topics),
        cors_origins=_listed(arguments.cors_origins),
        auth=arguments.auth,
    )


def _listed(text: str) -> tuple[str, ...]:
    return tuple(item.strip() for item in text.split(",") if item.strip())


TABLE_MARK = "<!-- the table below is generated: make settings-table -->"


def table() -> str:
    """The README's configuration table: each setting's flag, variable, default and meaning,
    from the declarations above (a test holds the README to it)."""
    defaults = Settings()
    rows = ["| flag | variable | default | what it is |", "|---|---|---|---|"]

    def row(flag: str, field: str, default: str, what: str) -> None:
        what = what.replace("|", "\\|")
        rows.append(f"| `{flag}` | `{ENV_PREFIX}{field.upper()}` | {default} | {what} |")

    for field, what in (NUMBERS | TEXTS).items():
        row(_flag(field), field, f"`{getattr(defaults, field)}`", what)
    for field, what in OPTIONAL.items():
        row(_flag(field), field, "none", what)
    for field, what in SWITCHES.items():
        flag = "--[no-]" + _flag(field).removeprefix("--")
        row(flag, field, f"`{str(getattr(defaults, field)).lower()}`", what)
    for field, what in LISTS.items():
        listed = ",".join(getattr(defaults, field))
        row(_flag(field), field, f"`{listed}`" if listed else "none", what)
    row("--[no-]auth", "auth", "`keys`", AUTH)
    return "\n".join(rows) + "\n"


def with_table(readme: str) -> str:
    """``readme`` with the table after ``TABLE_MARK`` (up to the next blank line) made anew."""
    before, mark, after = readme.partition(TABLE_MARK + "\n")
    if not mark:
        raise ValueError(f"the README has no {TABLE_MARK!r}")
    _, blank, rest = after.partition("\n\n")
    return before + mark + table() + blank[:1] + rest if blank else before + mark + table()


if __name__ == "__main__":  # make settings-table
    import sys
    from pathlib import Path

    readme = Path(sys.argv[1])
    readme.write_text(with_table(readme.read_text()))
