"""The ports: what the services need from a store (by role), a live bus, an ingest sink and a
consumer, and the values that cross them.

Every ``Store`` adapter passes the contract suite in ``tests/contract/``; every ``LiveBus``
adapter delivers each published change to every subscriber of its tenant.
"""

from __future__ import annotations

from gql_analytics.domain.upstream import MessageKey
from gql_analytics.ports.live import (
    IngestMonitor,
    IngestSink,
    LiveBus,
)
from gql_analytics.ports.messages import (
    MessageBatch,
    MessageSink,
    MessagesResult,
    PartitionMessages,
    PreparedBatch,
    Rejection,
    StagedMessages,
    StagedResult,
)
from gql_analytics.ports.store import (
    DatasetReader,
    DimensionRepository,
    EventReader,
    JobRepository,
    JourneyReader,
    KeyRepository,
    Lifecycle,
    MessageStager,
    PositionKeeper,
    QuestionReader,
    RecordWriter,
    Retention,
    RollupReader,
    Store,
    TaskReader,
)
from gql_analytics.ports.values import (
    Change,
    Dependency,
    EventCursor,
    EventQuery,
    IngestTotals,
    JobCursor,
    PartitionStatus,
    PositionReset,
    PositionResetKind,
    SeriesInfo,
    TaskColumns,
    TaskSummary,
    UserActivity,
    UserTaskCounts,
    Version,
    version_of,
)

__all__ = [
    "Change",
    "DatasetReader",
    "Dependency",
    "DimensionRepository",
    "EventCursor",
    "EventQuery",
    "EventReader",
    "IngestMonitor",
    "IngestSink",
    "IngestTotals",
    "JobCursor",
    "JobRepository",
    "JourneyReader",
    "KeyRepository",
    "Lifecycle",
    "LiveBus",
    "MessageBatch",
    "MessageKey",
    "MessageSink",
    "MessageStager",
    "MessagesResult",
    "PartitionMessages",
    "PartitionStatus",
    "PositionKeeper",
    "PositionReset",
    "PositionResetKind",
    "PreparedBatch",
    "QuestionReader",
    "RecordWriter",
    "Rejection",
    "Retention",
    "RollupReader",
    "SeriesInfo",
    "StagedMessages",
    "StagedResult",
    "Store",
    "TaskColumns",
    "TaskReader",
    "TaskSummary",
    "UserActivity",
    "UserTaskCounts",
    "Version",
    "version_of",
]
