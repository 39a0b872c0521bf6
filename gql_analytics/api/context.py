"""The typed per-request context that every resolver receives."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from starlette.requests import Request
from starlette.websockets import WebSocket
from strawberry import Info as _Info

from gql_analytics.analysis.service import AnalysisService
from gql_analytics.ports import LiveBus
from gql_analytics.service import AnalyticsService


@dataclass
class Context:
    service: AnalyticsService
    analysis: AnalysisService
    bus: LiveBus
    tenant: str
    live_throttle: timedelta
    request: Request | WebSocket


Info = _Info[Context, None]
