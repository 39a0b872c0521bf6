"""Settings from command-line flags, falling back to GQL_ANALYTICS_* environment variables."""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta

ENV_PREFIX = "GQL_ANALYTICS_"
DEFAULT_STORE_URL = "duckdb:///./data/analytics.duckdb"


@dataclass(frozen=True, slots=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    store_url: str = DEFAULT_STORE_URL
    retention_days: int = 90
    live_throttle_ms: int = 250
    log_level: str = "info"

    @property
    def retention(self) -> timedelta | None:
        return timedelta(days=self.retention_days) if self.retention_days > 0 else None

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


def from_arguments(arguments: argparse.Namespace) -> Settings:
    return Settings(
        host=arguments.host,
        port=arguments.port,
        store_url=arguments.store_url,
        retention_days=arguments.retention_days,
        live_throttle_ms=arguments.live_throttle_ms,
        log_level=arguments.log_level,
    )
