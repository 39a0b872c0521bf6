"""Raw messages into a store the way a consumer hands them over: through the ingest layer."""

from __future__ import annotations

from datetime import datetime, timedelta

from gql_analytics.adapters.live import InProcessBus
from gql_analytics.ports import Change, RecordWriter
from gql_analytics.services.ingest.messages import MessageIngest


class PublishedChanges(InProcessBus):
    """An in-process bus that keeps every change published, each with its new events."""

    def __init__(self) -> None:
        super().__init__()
        self.published: list[Change] = []

    async def publish(self, change: Change) -> None:
        self.published.append(change)
        await super().publish(change)

    @property
    def wants_events(self) -> bool:
        return True


def message_ingest(
    store: RecordWriter, now: datetime, retention: timedelta | None = None
) -> tuple[MessageIngest, PublishedChanges]:
    """The ingest layer over ``store`` at the fixed time ``now``, and the changes it publishes."""
    bus = PublishedChanges()
    return MessageIngest(store, bus, clock=lambda: now, retention=retention), bus
