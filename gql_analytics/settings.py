"""Settings from command-line flags, falling back to GQL_ANALYTICS_* environment variables."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

from gql_analytics.analysis.jobs import AnalysisLimits
from gql_analytics.auth.tokens import TokenRules

ENV_PREFIX = "GQL_ANALYTICS_"
DEFAULT_STORE_URL = "duckdb:///./data/analytics.duckdb"
DEFAULT_TOPICS = ("analytics.events", "analytics.metrics", "analytics.tasks")


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
    kafka_idempotence: bool = False
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
    rate_limit: float = 50.0
    rate_burst: int = 100
    production: bool = False
    introspection: bool = True
    graphiql: bool = True

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
            raise ValueError("JWTs need --jwt-issuer and --jwt-audience: both are checked")
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


def add_arguments(parser: argparse.ArgumentParser, env: Mapping[str, str] | None = None) -> None:
    """Flags whose defaults come from the environment, so a flag always wins over a variable."""
    env = os.environ if env is None else env
    defaults = Settings()

    def default(name: str, fallback: object) -> str:
        return env.get(ENV_PREFIX + name, str(fallback))

    parser.add_argument("--host", default=default("HOST", defaults.host))
    parser.add_argument("--port", type=int, default=int(default("PORT", defaults.port)))
    parser.add_argument(
        "--store",
        dest="store_url",
        default=default("STORE_URL", defaults.store_url),
        help="duckdb:///path/file.duckdb (default) or duckdb:///:memory:",
    )
    parser.add_argument(
        "--retention-days",
        type=int,
        default=int(default("RETENTION_DAYS", defaults.retention_days)),
        help="days raw records are kept (rollups are kept for good); 0 keeps them for ever",
    )
    parser.add_argument(
        "--live-throttle-ms",
        type=int,
        default=int(default("LIVE_THROTTLE_MS", defaults.live_throttle_ms)),
        help="least time between two messages of one subscription",
    )
    parser.add_argument("--log-level", default=default("LOG_LEVEL", defaults.log_level))
    parser.add_argument(
        "--kafka",
        dest="kafka_bootstrap_servers",
        default=env.get(ENV_PREFIX + "KAFKA_BOOTSTRAP_SERVERS"),
        help="host:port[,host:port] of Kafka; turns on the consumer (and produce-on-ingest)",
    )
    parser.add_argument(
        "--kafka-topics",
        default=default("KAFKA_TOPICS", ",".join(defaults.kafka_topics)),
        help="comma-separated topics to consume; mutations produce to the first",
    )
    parser.add_argument(
        "--kafka-group-id", default=default("KAFKA_GROUP_ID", defaults.kafka_group_id)
    )
    parser.add_argument(
        "--kafka-dlq-suffix", default=default("KAFKA_DLQ_SUFFIX", defaults.kafka_dlq_suffix)
    )
    parser.add_argument(
        "--kafka-idempotence",
        action=argparse.BooleanOptionalAction,
        default=default("KAFKA_IDEMPOTENCE", "false").lower() in {"1", "true", "yes"},
        help="idempotent producer (needs InitProducerId; event ids already make retries safe)",
    )
    parser.add_argument(
        "--analysis-rows",
        type=int,
        default=int(default("ANALYSIS_ROWS", defaults.analysis_rows)),
        help="most rows an analysis dataset may have; a larger one fails its job",
    )
    parser.add_argument(
        "--analysis-seconds",
        type=float,
        default=float(default("ANALYSIS_SECONDS", defaults.analysis_seconds)),
        help="longest an analysis may compute before its job fails",
    )
    parser.add_argument(
        "--analysis-workers",
        type=int,
        default=int(default("ANALYSIS_WORKERS", defaults.analysis_workers)),
        help="analysis worker processes: jobs that run at once (the rest wait, QUEUED)",
    )
    parser.add_argument(
        "--auth",
        action=argparse.BooleanOptionalAction,
        default=env.get(ENV_PREFIX + "AUTH", "keys").lower() not in {"none", "off", "false", "0"},
        help="--no-auth (GQL_ANALYTICS_AUTH=none) is for local development: loopback only",
    )
    for flag, name, what in (
        ("--jwt-issuer", "JWT_ISSUER", "JWTs: the iss every token must carry"),
        ("--jwt-audience", "JWT_AUDIENCE", "JWTs: the aud every token must carry"),
        ("--jwt-secret", "JWT_SECRET", "JWTs signed HS256 with this shared secret"),
        ("--jwt-jwks-file", "JWT_JWKS_FILE", "JWTs signed RS256/ES256 by a key of this JWKS file"),
    ):
        parser.add_argument(flag, default=env.get(ENV_PREFIX + name), help=what)
    parser.add_argument(
        "--jwt-tenant-claim", default=default("JWT_TENANT_CLAIM", defaults.jwt_tenant_claim)
    )
    parser.add_argument(
        "--jwt-role-claim", default=default("JWT_ROLE_CLAIM", defaults.jwt_role_claim)
    )
    parser.add_argument(
        "--credential-recheck",
        type=float,
        default=float(default("CREDENTIAL_RECHECK", defaults.credential_recheck)),
        help="seconds between checks of an open socket's credential (revoked, expired: closed)",
    )
    parser.add_argument(
        "--rate-limit",
        type=float,
        default=float(default("RATE_LIMIT", defaults.rate_limit)),
        help="operations a second per API key, on average; 0: off",
    )
    parser.add_argument(
        "--rate-burst",
        type=int,
        default=int(default("RATE_BURST", defaults.rate_burst)),
        help="operations a key may send at once before the rate applies",
    )
    parser.add_argument(
        "--cors-origins",
        default=default("CORS_ORIGINS", ""),
        help="comma-separated origins whose browser pages may call the API (default: none)",
    )
    for flag, name, what in (
        ("production", "PRODUCTION", "production: introspection and GraphiQL off"),
        ("introspection", "INTROSPECTION", "answer introspection queries"),
        ("graphiql", "GRAPHIQL", "serve GraphiQL to browsers on GET /graphql"),
    ):
        parser.add_argument(
            f"--{flag}",
            action=argparse.BooleanOptionalAction,
            default=default(name, str(getattr(defaults, flag))).lower() in {"1", "true", "yes"},
            help=what,
        )
    parser.add_argument(
        "--connection-init-timeout",
        type=float,
        default=float(default("CONNECTION_INIT_TIMEOUT", defaults.connection_init_timeout)),
        help="seconds a WebSocket may wait before connection_init; then it is closed (4408)",
    )
    for flag, name, what in (
        ("--max-query-depth", "max_query_depth", "deepest nesting of fields in a document"),
        ("--max-aliases", "max_aliases", "aliases in a document, counted through fragments"),
        ("--max-tokens", "max_tokens", "tokens in a document (parsing stops past it)"),
        ("--max-cost", "max_cost", "cost of a document: fields times the page sizes above them"),
        ("--max-body-bytes", "max_body_bytes", "bytes of a request body (413 past it)"),
        (
            "--max-subscriptions-per-connection",
            "max_subscriptions_per_connection",
            "operations at once on one WebSocket",
        ),
        (
            "--max-subscriptions-per-tenant",
            "max_subscriptions_per_tenant",
            "live subscriptions of one tenant, over every socket",
        ),
    ):
        parser.add_argument(
            flag, type=int, default=int(default(name.upper(), getattr(defaults, name))), help=what
        )


def from_arguments(arguments: argparse.Namespace) -> Settings:
    return Settings(
        host=arguments.host,
        port=arguments.port,
        store_url=arguments.store_url,
        retention_days=arguments.retention_days,
        live_throttle_ms=arguments.live_throttle_ms,
        log_level=arguments.log_level,
        kafka_bootstrap_servers=arguments.kafka_bootstrap_servers or None,
        kafka_topics=tuple(t.strip() for t in arguments.kafka_topics.split(",") if t.strip()),
        kafka_group_id=arguments.kafka_group_id,
        kafka_dlq_suffix=arguments.kafka_dlq_suffix,
        kafka_idempotence=arguments.kafka_idempotence,
        analysis_rows=arguments.analysis_rows,
        analysis_seconds=arguments.analysis_seconds,
        analysis_workers=arguments.analysis_workers,
        max_query_depth=arguments.max_query_depth,
        max_aliases=arguments.max_aliases,
        max_tokens=arguments.max_tokens,
        max_cost=arguments.max_cost,
        max_body_bytes=arguments.max_body_bytes,
        max_subscriptions_per_connection=arguments.max_subscriptions_per_connection,
        max_subscriptions_per_tenant=arguments.max_subscriptions_per_tenant,
        connection_init_timeout=arguments.connection_init_timeout,
        cors_origins=tuple(o.strip() for o in arguments.cors_origins.split(",") if o.strip()),
        auth=arguments.auth,
        jwt_issuer=arguments.jwt_issuer,
        jwt_audience=arguments.jwt_audience,
        jwt_secret=arguments.jwt_secret,
        jwt_jwks_file=arguments.jwt_jwks_file,
        jwt_tenant_claim=arguments.jwt_tenant_claim,
        jwt_role_claim=arguments.jwt_role_claim,
        credential_recheck=arguments.credential_recheck,
        rate_limit=arguments.rate_limit,
        rate_burst=arguments.rate_burst,
        production=arguments.production,
        introspection=arguments.introspection,
        graphiql=arguments.graphiql,
    )
