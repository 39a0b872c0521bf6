"""How records, rollups, tasks and positions look as MongoDB documents, and the bulk writes that
add a batch's deltas to them (``MongoStore``; collections and indexes in ``docs/mongodb.md``).

Keys that combine several values are strings joined by ``SEP``, a control character that no
validated text (tenant, id, name, user id) can hold, so two different keys never meet.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import InsertOne, ReplaceOne, UpdateOne

from gql_analytics.domain.jobs import AnalysisJob
from gql_analytics.domain.keys import ApiKey
from gql_analytics.domain.records import Event, MetricPoint, Record, SourcePosition
from gql_analytics.domain.rollup import Rollup
from gql_analytics.domain.tasks import TaskDelta

SEP = "\x1f"
Document = dict[str, Any]


def minutes(level: timedelta) -> int:
    return int(level.total_seconds()) // 60


def record_id(tenant: str, id: str) -> str:
    return f"{tenant}{SEP}{id}"


def event_document(event: Event) -> Document:
    return {
        "_id": record_id(event.tenant, event.id),
        "tenant": event.tenant,
        "id": event.id,
        "name": event.name,
        "user_id": event.user_id,
        "occurred_at": event.occurred_at,
        "received_at": event.received_at,
        "source": event.source,
        "properties": dict(event.properties),
    }


def event_of(document: Mapping[str, Any]) -> Event:
    return Event(
        id=document["id"],
        name=document["name"],
        tenant=document["tenant"],
        occurred_at=utc(document["occurred_at"]),
        received_at=utc(document["received_at"]),
        user_id=document["user_id"],
        source=document["source"],
        properties=document["properties"],
    )


def point_document(point: MetricPoint) -> Document:
    return {
        "_id": record_id(point.tenant, point.id),
        "tenant": point.tenant,
        "id": point.id,
        "name": point.name,
        "value": point.value,
        "tags": dict(point.tags),
        "occurred_at": point.occurred_at,
        "received_at": point.received_at,
    }


def record_document(record: Record) -> Document:
    return event_document(record) if isinstance(record, Event) else point_document(record)


def utc(moment: datetime | None) -> Any:
    """A datetime as the driver returns it (aware, UTC) or None."""
    return None if moment is None else moment.astimezone(UTC)


def series_writes(deltas: Rollup) -> list[UpdateOne]:
    return [
        UpdateOne(
            {"_id": key.id},
            {
                "$setOnInsert": {
                    "tenant": key.tenant,
                    "kind": key.kind,
                    "name": key.name,
                    "tags": dict(key.tags),
                    "tags_json": key.tags_json,
                },
                "$inc": {"count": delta.count},
                "$max": {"last_seen": delta.last_seen},
            },
            upsert=True,
        )
        for key, delta in deltas.series.items()
    ]


def rollup_writes(deltas: Rollup) -> list[UpdateOne]:
    """One upsert per (series, level, bucket): counters and histogram bins ``$inc``, extremes
    ``$min``/``$max`` (the bucket pattern: a bucket is one document, whatever its count)."""
    writes = []
    for key, stats in deltas.buckets.items():
        level = minutes(key.level)
        start = key.bucket_start
        update: Document = {
            "$setOnInsert": {"series": key.series_id, "level": level, "bucket_start": start},
            "$inc": {"count": stats.count},
        }
        if stats.bins:
            update["$inc"] |= {"total": stats.total, "sum_squares": stats.sum_squares}
            update["$inc"] |= {f"bins.{bin_id}": n for bin_id, n in stats.bins.items()}
            update["$min"] = {"low": stats.low}
            update["$max"] = {"high": stats.high}
        bucket_id = f"{key.series_id}{SEP}{level}{SEP}{int(start.timestamp()) // 60}"
        writes.append(UpdateOne({"_id": bucket_id}, update, upsert=True))
    return writes


def presence_writes(deltas: Rollup) -> list[UpdateOne]:
    writes = []
    for p in deltas.presence:
        level = minutes(p.level)
        start = int(p.bucket_start.timestamp()) // 60
        document = {
            "tenant": p.tenant,
            "level": level,
            "bucket_start": p.bucket_start,
            "user_id": p.user_id,
        }
        writes.append(
            UpdateOne(
                {"_id": SEP.join((p.tenant, str(level), str(start), p.user_id))},
                {"$setOnInsert": document},
                upsert=True,
            )
        )
    return writes


def task_id(tenant: str, task: str) -> str:
    return f"{tenant}{SEP}{task}"


def task_delta_of(document: Mapping[str, Any]) -> TaskDelta:
    return TaskDelta(
        tenant=document["tenant"],
        task_id=document["task_id"],
        user_id=document["user_id"],
        created_at=utc(document["created_at"]),
        completed_at=utc(document["completed_at"]),
        status=document["status"],
        status_at=utc(document["status_at"]),
    )


def task_writes(merged: Iterable[TaskDelta]) -> list[ReplaceOne[Document]]:
    """The merged state of each task the batch touched (read and merged in the same
    transaction, so two batches never merge from the same old state)."""
    return [
        ReplaceOne(
            {"_id": task_id(t.tenant, t.task_id)},
            {
                "tenant": t.tenant,
                "task_id": t.task_id,
                "user_id": t.user_id,
                "created_at": t.created_at,
                "completed_at": t.completed_at,
                "status": t.status,
                "status_at": t.status_at,
            },
            upsert=True,
        )
        for t in merged
    ]


def position_rewrite(position: SourcePosition) -> UpdateOne:
    """The position set as it is, even below the stored one (``position_writes`` only raise it)."""
    return UpdateOne(
        {"_id": f"{position.source}{SEP}{position.partition}"},
        {
            "$set": {
                "source": position.source,
                "partition": position.partition,
                "next_offset": position.next_offset,
            }
        },
        upsert=True,
    )


def position_writes(positions: Iterable[SourcePosition]) -> list[UpdateOne]:
    return [
        UpdateOne(
            {"_id": f"{p.source}{SEP}{p.partition}"},
            {
                "$setOnInsert": {"source": p.source, "partition": p.partition},
                "$max": {"next_offset": p.next_offset},
            },
            upsert=True,
        )
        for p in positions
    ]


def inserts(documents: Iterable[Document]) -> list[InsertOne[Document]]:
    return [InsertOne(document) for document in documents]


def job_document(job: AnalysisJob) -> Document:
    return {
        "_id": record_id(job.tenant, job.id),
        "id": job.id,
        "tenant": job.tenant,
        "operation": job.operation,
        "state": job.state,
        "created_at": job.created_at,
        "request": job.request,
        "progress": job.progress,
        "finished_at": job.finished_at,
        "error": job.error,
        "result": job.result,
        "updated_at": job.updated_at,
    }


def job_of(document: Mapping[str, Any]) -> AnalysisJob:
    return AnalysisJob(
        id=document["id"],
        tenant=document["tenant"],
        operation=document["operation"],
        state=document["state"],
        created_at=utc(document["created_at"]),
        request=document["request"],
        progress=document["progress"],
        finished_at=utc(document["finished_at"]),
        error=document["error"],
        result=document["result"],
        updated_at=utc(document.get("updated_at")),
    )


def key_document(key: ApiKey) -> Document:
    return {
        "_id": key.id,
        "tenant": key.tenant,
        "role": key.role,
        "secret_hash": key.secret_hash,
        "created_at": key.created_at,
        "name": key.name,
        "revoked_at": key.revoked_at,
    }


def key_of(document: Mapping[str, Any]) -> ApiKey:
    return ApiKey(
        id=document["_id"],
        tenant=document["tenant"],
        role=document["role"],
        secret_hash=document["secret_hash"],
        created_at=utc(document["created_at"]),
        name=document["name"],
        revoked_at=utc(document["revoked_at"]),
    )


def point_of(document: Mapping[str, Any]) -> MetricPoint:
    return MetricPoint(
        id=document["id"],
        name=document["name"],
        value=document["value"],
        tenant=document["tenant"],
        occurred_at=utc(document["occurred_at"]),
        received_at=utc(document["received_at"]),
        tags=document["tags"],
    )
