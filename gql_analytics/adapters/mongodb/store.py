"""The scale-out store: MongoDB through PyMongo's async API (``AsyncMongoClient``).

``MongoStore`` is every role of the ``Store`` port, each in a module of its own over one
``Database`` (``database.py``: the client, indexes, driver errors, the transaction every batch
is):

- ``writing.py``: batches of records with their positions, rewinds, purges;
- ``rollup_reads.py``, ``question_reads.py``, ``event_reads.py``, ``task_reads.py``, ``dataset_reads.py``: reads, range
  queries grouping their buckets on the server;
- ``journey_reads.py``: funnels and retention, per-user scans of raw events;
- ``repositories.py``: analysis jobs and API keys; ``dimensions.py``: declared dimensions;
- ``lifecycle.py``: ``ping`` and ``close``;

and ``documents.py`` says how each value looks as a document.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from pymongo import AsyncMongoClient
from pymongo.uri_parser import parse_uri

from gql_analytics.adapters.mongodb.database import DEFAULT_DATABASE
from gql_analytics.adapters.mongodb.dataset_reads import DatasetReads
from gql_analytics.adapters.mongodb.dimensions import DimensionStore
from gql_analytics.adapters.mongodb.event_reads import EventReads
from gql_analytics.adapters.mongodb.journey_reads import JourneyReads
from gql_analytics.adapters.mongodb.lifecycle import Lifecycle
from gql_analytics.adapters.mongodb.question_reads import QuestionReads
from gql_analytics.adapters.mongodb.repositories import Repositories
from gql_analytics.adapters.mongodb.rollup_reads import RollupReads
from gql_analytics.adapters.mongodb.task_reads import TaskReads
from gql_analytics.adapters.mongodb.writing import Writing

__all__ = ["DEFAULT_DATABASE", "MongoStore", "open_mongodb"]


def open_mongodb(url: str, *, retention: timedelta | None = None) -> MongoStore:
    database = parse_uri(url).get("database") or DEFAULT_DATABASE
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        url, tz_aware=True, serverSelectionTimeoutMS=5_000
    )
    return MongoStore(client, database, retention=retention)


class MongoStore(
    Writing,
    RollupReads,
    QuestionReads,
    JourneyReads,
    EventReads,
    TaskReads,
    DatasetReads,
    Repositories,
    DimensionStore,
    Lifecycle,
):
    """``MongoStore(client, database=DEFAULT_DATABASE, *, retention=None)``: the store on
    ``client``'s ``database``."""

    system = "mongodb"
