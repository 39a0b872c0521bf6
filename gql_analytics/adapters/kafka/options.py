"""What the Kafka adapters are configured with (``bootstrap.kafka_options`` reads it from the
settings, where each value has its flag, variable and default)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class KafkaOptions:
    bootstrap_servers: str
    topics: tuple[str, ...]  # consumed; mutations produce to the first
    group_id: str
    dlq_suffix: str  # appended to a topic's name for its dead letters
    live_topic: str  # replicas share live changes through it
    idempotence: bool
    timeout: float  # seconds a request, and a batch not yet acknowledged, may take
    on_position_reset: str  # "earliest" (read the log again from its start) or "pause"

    @property
    def ingest_topic(self) -> str:
        """Where mutations produce their records."""
        return self.topics[0]
