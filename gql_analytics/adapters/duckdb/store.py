"""The embedded default store: one DuckDB file (or memory), one transaction per batch.

``DuckDBStore`` is every role of the ``Store`` port and the ``MessageStager`` capability, each
in a module of its own over one ``Database`` (``database.py``: connections, worker threads, the
transaction):

- ``writing.py``: batches of records with their positions, rewinds, purges;
- ``stager.py``: large Kafka batches staged and applied in SQL (``messages/``);
- ``rollup_reads.py``, ``question_reads.py``, ``event_reads.py``, ``task_reads.py``, ``dataset_reads.py``: reads;
- ``journey_reads.py``: funnels and retention, per-user scans of raw events;
- ``repositories.py``: analysis jobs and API keys; ``dimensions.py``: declared dimensions;
- ``lifecycle.py``: ``ping`` and ``close``.
"""

from __future__ import annotations

from gql_analytics.adapters.duckdb.database import SQL_FROM
from gql_analytics.adapters.duckdb.dataset_reads import DatasetReads
from gql_analytics.adapters.duckdb.dimensions import DimensionStore
from gql_analytics.adapters.duckdb.event_reads import EventReads
from gql_analytics.adapters.duckdb.journey_reads import JourneyReads
from gql_analytics.adapters.duckdb.lifecycle import Lifecycle
from gql_analytics.adapters.duckdb.question_reads import QuestionReads
from gql_analytics.adapters.duckdb.repositories import Repositories
from gql_analytics.adapters.duckdb.rollup_reads import RollupReads
from gql_analytics.adapters.duckdb.stager import Stager
from gql_analytics.adapters.duckdb.task_reads import TaskReads
from gql_analytics.adapters.duckdb.writing import Writing

__all__ = ["SQL_FROM", "DuckDBStore"]


class DuckDBStore(
    Writing,
    Stager,
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
    """``DuckDBStore(path=":memory:", *, sql_from=SQL_FROM, min_free_bytes=0,
    free_bytes=None)``: a DuckDB file at ``path`` (its folders made), or memory; Kafka batches
    of ``sql_from`` messages or more are staged in SQL."""

    system = "duckdb"
