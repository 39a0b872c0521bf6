"""The schema's root types: every field clients can ask for, in the order the schema lists
them, each resolved in the module of its domain."""

from __future__ import annotations

import strawberry

from gql_analytics.entrypoints.graphql import dashboard, live_query
from gql_analytics.entrypoints.graphql.analysis import mutations as analysis_mutations
from gql_analytics.entrypoints.graphql.analysis import queries as analysis_queries
from gql_analytics.entrypoints.graphql.analysis import subscriptions as analysis_subscriptions
from gql_analytics.entrypoints.graphql.dimensions import mutations as dimension_mutations
from gql_analytics.entrypoints.graphql.dimensions import queries as dimension_queries
from gql_analytics.entrypoints.graphql.events import queries as event_queries
from gql_analytics.entrypoints.graphql.events import subscriptions as event_subscriptions
from gql_analytics.entrypoints.graphql.ingest import mutations as ingest_mutations
from gql_analytics.entrypoints.graphql.ingest import queries as ingest_queries
from gql_analytics.entrypoints.graphql.journeys import queries as journey_queries
from gql_analytics.entrypoints.graphql.keys import mutations as key_mutations
from gql_analytics.entrypoints.graphql.keys import queries as key_queries
from gql_analytics.entrypoints.graphql.metrics import queries as metric_queries
from gql_analytics.entrypoints.graphql.metrics import subscriptions as metric_subscriptions
from gql_analytics.entrypoints.graphql.questions import queries as question_queries
from gql_analytics.entrypoints.graphql.tasks import queries as task_queries


@strawberry.type
class Query:
    analysis = analysis_queries.analysis
    analyses = analysis_queries.analyses
    api_keys = key_queries.api_keys
    events = event_queries.events
    event = event_queries.event
    event_counts = event_queries.event_counts
    top_events = event_queries.top_events
    active_users = event_queries.active_users
    aggregate = question_queries.aggregate
    dimensions = dimension_queries.dimensions
    funnel = journey_queries.funnel
    retention = journey_queries.retention
    metric = metric_queries.metric
    metrics = metric_queries.metrics
    tasks_per_user = task_queries.tasks_per_user
    task_stats = task_queries.task_stats
    ingest_status = ingest_queries.ingest_status
    dashboard = dashboard.dashboard


@strawberry.type
class Mutation:
    track_event = ingest_mutations.track_event
    track_events = ingest_mutations.track_events
    record_metric = ingest_mutations.record_metric
    record_metrics = ingest_mutations.record_metrics
    run_analysis = analysis_mutations.run_analysis
    cancel_analysis = analysis_mutations.cancel_analysis
    create_api_key = key_mutations.create_api_key
    revoke_api_key = key_mutations.revoke_api_key
    declare_dimensions = dimension_mutations.declare_dimensions


@strawberry.type
class Subscription:
    event_count = event_subscriptions.event_count
    metric_updates = metric_subscriptions.metric_updates
    event_stream = event_subscriptions.event_stream
    analysis_progress = analysis_subscriptions.analysis_progress
    live = strawberry.subscription(
        live_query.live, graphql_type=Query, description=live_query.DESCRIPTION
    )
