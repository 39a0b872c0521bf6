"""Every setting, declared once (pydantic-settings): its type, default, meaning and group.

A setting is read from its flag (``--kafka-group-id``), else from its variable
(``GQL_ANALYTICS_KAFKA_GROUP_ID``), else it keeps its default. A value that cannot be read stops
start-up with a ``SettingsError`` naming the flag or variable it came from and what it accepts;
a switch takes 1/0, true/false, yes/no or on/off and nothing else. The flags and the README's
configuration table are made from these declarations (``flags``; ``make settings-table``, and a
test holds the README to them).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from gql_analytics.domain.jobs import AnalysisLimits
from gql_analytics.services.auth.tokens import TokenRules

ENV_PREFIX = "GQL_ANALYTICS_"
DEFAULT_STORE_URL = "duckdb:///./data/analytics.duckdb"
TRUE = frozenset({"1", "true", "yes", "on"})
FALSE = frozenset({"0", "false", "no", "off"})


class SettingsError(ValueError):
    """A setting that cannot be read, named by its flag or variable: start-up stops on it."""


@dataclass(frozen=True, slots=True)
class DocumentLimits:
    """What one GraphQL document may ask, checked before it runs."""

    depth: int = 10
    aliases: int = 30
    tokens: int = 5_000
    cost: int = 10_000
    operations: int = 10


def _switch(value: object) -> object:
    if isinstance(value, str):
        said = value.strip().lower()
        if said not in TRUE | FALSE:
            raise ValueError("is not one of 1/0, true/false, yes/no or on/off")
        return said in TRUE
    return value


def _auth(value: object) -> object:
    if isinstance(value, str):
        said = value.strip().lower()
        if said not in {"keys", "none", *TRUE, *FALSE}:
            raise ValueError("is not one of keys (on) or none (off)")
        return said in {"keys", *TRUE}
    return value


def _listed(value: object) -> object:
    if isinstance(value, str):
        return tuple(item.strip() for item in value.split(",") if item.strip())
    return value


Switch = Annotated[bool, BeforeValidator(_switch)]
Listed = Annotated[tuple[str, ...], NoDecode, BeforeValidator(_listed)]
GROUPS = ("serving", "store", "kafka", "limits", "auth", "analysis")


def _setting(group: str, default: Any, what: str, *, flag: str | None = None) -> Any:
    extra: dict[str, Any] = {"group": group}
    if flag is not None:
        extra["flag"] = flag
    return Field(default, description=what, json_schema_extra=extra)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, frozen=True, extra="forbid")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Built in code, settings are what the code says: only ``read`` reads variables."""
        return (init_settings,)

    # -- serving: where and how the gateway answers
    host: str = _setting(
        "serving", "127.0.0.1", "address to serve on (--no-auth only on a loopback one)"
    )
    port: int = _setting("serving", 8000, "port to serve on")
    log_level: str = _setting("serving", "info", "debug, info, warning or error")
    cors_origins: Listed = _setting(
        "serving", (), "origins whose browser pages may call the API (comma-separated)"
    )
    max_body_bytes: int = _setting("serving", 1_000_000, "bytes of a request body (413 past it)")
    connection_init_timeout: float = _setting(
        "serving",
        10.0,
        "seconds a WebSocket may wait before connection_init (then 4408, both protocols)",
    )
    ws_compression: Switch = _setting(
        "serving",
        False,
        "compress WebSocket messages (permessage-deflate) when a client offers it: deflating"
        " each small live message costs more CPU than the rest of sending it",
    )
    ready_timeout: float = _setting(
        "serving", 2.0, "seconds /ready waits for the store and the broker to answer"
    )
    production: Switch = _setting("serving", False, "production: introspection and GraphiQL off")
    introspection: Switch = _setting("serving", True, "answer introspection queries")
    graphiql: Switch = _setting("serving", True, "serve GraphiQL to browsers on GET /graphql")
    tracing: Switch = _setting(
        "serving",
        True,
        "OpenTelemetry spans (exported over OTLP when OTEL_EXPORTER_OTLP_ENDPOINT is set)",
    )
    metrics: Switch = _setting("serving", True, "serve /metrics and time every GraphQL operation")
    metrics_token: str | None = _setting(
        "serving", None, "the token a Prometheus scraper sends for /metrics (when auth is on)"
    )

    # -- store: where records are kept, and for how long
    store_url: str = _setting(
        "store",
        DEFAULT_STORE_URL,
        "duckdb:///path/file.duckdb, duckdb:///:memory: or mongodb://... (MongoDB: for several"
        " processes)",
        flag="--store",
    )
    retention_days: int = _setting(
        "store",
        90,
        "days raw records are kept (rollups are kept for good); 0 keeps them for ever",
    )
    store_min_free_mb: int = _setting(
        "store",
        64,
        "MB free on a DuckDB file's disk below which /ready says the store cannot take writes",
    )

    # -- kafka: ingestion from topics, and the live topic replicas share
    kafka_bootstrap_servers: str | None = _setting(
        "kafka", None, "host:port[,host:port] of Kafka; turns on the consumer", flag="--kafka"
    )
    kafka_topics: Listed = _setting(
        "kafka",
        ("analytics.events", "analytics.metrics", "analytics.tasks"),
        "topics to consume (comma-separated); mutations produce to the first",
    )
    kafka_group_id: str = _setting("kafka", "gql-analytics", "the consumer group")
    kafka_dlq_suffix: str = _setting(
        "kafka", ".dlq", "appended to a topic's name for its dead letters"
    )
    kafka_live_topic: str = _setting(
        "kafka", "analytics.live", "the topic replicas share live changes through (with Kafka on)"
    )
    kafka_idempotence: Switch = _setting(
        "kafka",
        False,
        "idempotent producer (needs InitProducerId; ids already make retries safe)",
    )
    kafka_timeout: float = _setting(
        "kafka",
        5.0,
        "seconds the broker may take to acknowledge a mutation's records (then BROKER_UNAVAILABLE)",
    )
    kafka_on_position_reset: Literal["earliest", "pause"] = _setting(
        "kafka",
        "earliest",
        "when a partition's log is younger than the store's position (topic recreated, broker"
        " data lost): earliest (read it again from its start) or pause",
    )

    # -- limits: what one client may ask
    max_query_depth: int = _setting("limits", 10, "deepest nesting of fields in a document")
    max_aliases: int = _setting("limits", 30, "aliases in a document, counted through fragments")
    max_tokens: int = _setting("limits", 5_000, "tokens in a document (parsing stops past it)")
    max_cost: int = _setting(
        "limits",
        10_000,
        "cost of a document: each field times the size of every list it sits in (see Reading data)",
    )
    max_scan_rows: int = _setting(
        "limits",
        50_000_000,
        "raw records one question may scan (the planner's count of those in its range); 0: no limit",
    )
    max_subscriptions_per_connection: int = _setting(
        "limits", 50, "operations at once on one WebSocket (more get an error message)"
    )
    max_subscriptions_per_tenant: int = _setting(
        "limits",
        1_000,
        "live subscriptions of one tenant, over every socket (more get SUBSCRIPTION_LIMIT)",
    )
    rate_limit: float = _setting(
        "limits", 50.0, "operations a second per credential, on average; 0: off"
    )
    rate_burst: int = _setting(
        "limits", 100, "operations a credential may send at once before the rate applies"
    )
    live_throttle_ms: int = _setting(
        "limits", 250, "least time between two messages of one subscription"
    )
    query_cache_entries: int = _setting(
        "limits", 1_000, "answers kept for repeated queries (never stale); 0: no cache"
    )
    persisted_queries: str | None = _setting(
        "limits", None, "a persisted query manifest (JSON) of operations registered up front"
    )
    persisted_only: Switch = _setting(
        "limits", False, "run only the operations of --persisted-queries (an allow-list)"
    )

    # -- auth: who may ask
    auth: Annotated[bool, BeforeValidator(_auth)] = _setting(
        "auth",
        True,
        "API keys and JWTs (`none` turns auth off: for local development, on a loopback"
        " address only)",
    )
    jwt_issuer: str | None = _setting("auth", None, "JWTs: the iss every token must carry")
    jwt_audience: str | None = _setting("auth", None, "JWTs: the aud every token must carry")
    jwt_secret: str | None = _setting("auth", None, "JWTs signed HS256 with this shared secret")
    jwt_jwks_file: str | None = _setting(
        "auth", None, "JWTs signed RS256/ES256 by a key of this JWKS file"
    )
    jwt_tenant_claim: str = _setting("auth", "tenant", "the JWT claim naming the tenant")
    jwt_role_claim: str = _setting("auth", "role", "the JWT claim naming the role")
    credential_recheck: float = _setting(
        "auth", 5.0, "seconds between checks of an open socket's credential"
    )

    # -- analysis: jobs in worker processes
    analysis_rows: int = _setting(
        "analysis", 1_000_000, "most rows an analysis dataset may have; a larger one fails its job"
    )
    analysis_seconds: float = _setting(
        "analysis", 60.0, "longest an analysis may compute before its job fails"
    )
    analysis_workers: int = _setting(
        "analysis",
        2,
        "analysis worker processes: jobs that run at once (the rest wait, QUEUED)",
    )

    @classmethod
    def read(cls, flags: Mapping[str, Any], env: Mapping[str, str] | None = None) -> Settings:
        """The settings given by ``flags`` (by field name), else by the variables of ``env``
        (the process's environment when None), else their defaults."""
        variables = EnvSettingsSource(cls)
        if env is not None:
            variables.env_vars = {name.lower(): value for name, value in env.items()}
        from_env = variables()
        try:
            return cls.model_validate({**from_env, **flags})
        except ValidationError as error:
            raise _refusal(error, flags) from None

    @property
    def introspection_on(self) -> bool:
        return self.introspection and not self.production

    @property
    def graphiql_on(self) -> bool:
        return self.graphiql and not self.production

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


def _refusal(error: ValidationError, flags: Mapping[str, Any]) -> SettingsError:
    """The first problem of ``error``, named by where its value came from."""
    problem = error.errors()[0]
    field = str(problem["loc"][0]) if problem["loc"] else ""
    source = flag_of(field) if field in flags else variable_of(field)
    kind = problem["type"]
    if kind == "int_parsing":
        why = "is not a whole number"
    elif kind == "float_parsing":
        why = "is not a number"
    elif kind == "literal_error":
        expected = str(problem["ctx"]["expected"]).replace("'", "")
        why = f"is not one of {expected}"
    elif kind == "value_error":
        why = str(problem["ctx"]["error"])
    else:
        why = f"is refused: {problem['msg']}"
    return SettingsError(f"{source}: {problem['input']!r} {why}")


def variable_of(field: str) -> str:
    return ENV_PREFIX + field.upper()


def flag_of(field: str) -> str:
    info = Settings.model_fields[field]
    extra = info.json_schema_extra
    flag = extra.get("flag") if isinstance(extra, dict) else None
    return str(flag) if flag else "--" + field.replace("_", "-")
