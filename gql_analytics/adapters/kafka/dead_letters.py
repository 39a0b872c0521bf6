"""Poison messages (those the sink found no record in) produced to ``<topic><suffix>`` with
their reason and origin in headers, acknowledged by the broker before the rest of their batch
is applied: a poison message is never lost and never blocks its partition."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

from aiokafka import ConsumerRecord

from gql_analytics.adapters.kafka.clients import Producer, Records
from gql_analytics.ports import Rejection

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class DeadLetter:
    message: ConsumerRecord[bytes, bytes]
    reason: str
    detail: str


def dead_letters(batch: Records, rejected: Sequence[Rejection]) -> list[DeadLetter]:
    """The messages of ``batch`` the sink rejected, with why."""
    if not rejected:
        return []
    by_key = {(m.topic, m.partition, m.offset): m for ms in batch.values() for m in ms}
    return [DeadLetter(by_key[r.key], r.reason, r.detail) for r in rejected]


async def send_dead_letters(producer: Producer, dead: Sequence[DeadLetter], suffix: str) -> None:
    """Produces every letter, then waits for the broker to acknowledge each."""
    sent = []
    for letter in dead:
        message = letter.message
        headers = [
            ("dlq.reason", letter.reason.encode()),
            ("dlq.detail", letter.detail.encode()),
            ("dlq.topic", message.topic.encode()),
            ("dlq.partition", str(message.partition).encode()),
            ("dlq.offset", str(message.offset).encode()),
        ]
        if message.key is not None:
            headers.append(("dlq.key", message.key))
        # Keyed by where the message was: one dead-lettered again after a crash before the
        # commit is a repeat its reader can tell (and a compacted topic keeps once).
        origin = f"{message.topic}/{message.partition}/{message.offset}".encode()
        topic = message.topic + suffix
        sent.append(await producer.send(topic, message.value, key=origin, headers=headers))
    for delivery in sent:
        await delivery
    if dead:
        log.info("kafka: %d poison messages dead-lettered", len(dead))
