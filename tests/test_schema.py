from __future__ import annotations

from pathlib import Path

import pytest
from graphql import GraphQLObjectType, build_schema, print_ast

from gql_analytics.entrypoints.graphql.schema import export_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"

# (type, field, {argument: type}, return type) from the SDL contract of the core issue.
CONTRACT = [
    (
        "Query",
        "events",
        {"filter": "EventFilter", "first": "Int", "after": "String"},
        "EventConnection!",
    ),
    ("Query", "event", {"id": "ID!"}, "Event"),
    (
        "Query",
        "eventCounts",
        {"names": "[String!]", "range": "TimeRange", "interval": "Interval"},
        "[EventSeries!]!",
    ),
    ("Query", "topEvents", {"range": "TimeRange", "limit": "Int"}, "[TopEvent!]!"),
    ("Query", "activeUsers", {"range": "TimeRange", "interval": "Interval"}, "ActiveUsers!"),
    (
        "Query",
        "metric",
        {
            "name": "String!",
            "range": "TimeRange",
            "interval": "Interval",
            "tags": "JSON",
            "groupByTag": "String",
        },
        "MetricAggregation!",
    ),
    ("Query", "metrics", {}, "[MetricInfo!]!"),
    (
        "Query",
        "tasksPerUser",
        {"range": "TimeRange", "first": "Int", "after": "String"},
        "UserTasksConnection!",
    ),
    ("Query", "taskStats", {"range": "TimeRange", "userId": "String"}, "TaskStats!"),
    ("Query", "dashboard", {}, "Dashboard!"),
    ("Mutation", "trackEvent", {"input": "EventInput!"}, "TrackResult!"),
    ("Mutation", "trackEvents", {"inputs": "[EventInput!]!"}, "TrackResult!"),
    ("Mutation", "recordMetric", {"input": "MetricInput!"}, "TrackResult!"),
    ("Mutation", "recordMetrics", {"inputs": "[MetricInput!]!"}, "TrackResult!"),
    ("Subscription", "eventCount", {"name": "String!", "range": "TimeRange"}, "EventCountUpdate!"),
    (
        "Subscription",
        "metricUpdates",
        {"name": "String!", "range": "TimeRange", "tags": "JSON"},
        "MetricAggregation!",
    ),
    ("Subscription", "eventStream", {"filter": "EventFilter"}, "Event!"),
]
DEFAULTS = {
    ("events", "first"): 50,
    ("eventCounts", "interval"): "HOUR",
    ("topEvents", "limit"): 10,
    ("activeUsers", "interval"): "DAY",
    ("metric", "interval"): "HOUR",
    ("tasksPerUser", "first"): 50,
}


def test_schema_graphql_is_the_exported_sdl() -> None:
    assert SCHEMA_FILE.read_text() == export_sdl(), (
        "schema.graphql drifted from the code: run `make schema` and commit it"
    )


@pytest.mark.parametrize(("type_name", "field", "arguments", "returns"), CONTRACT)
def test_contract_fields_keep_their_arguments_and_types(
    type_name: str, field: str, arguments: dict[str, str], returns: str
) -> None:
    schema = build_schema(export_sdl())
    owner = schema.get_type(type_name)
    assert isinstance(owner, GraphQLObjectType)
    definition = owner.fields[field]
    assert str(definition.type) == returns
    for name, type_text in arguments.items():
        assert str(definition.args[name].type) == type_text
    for name, argument in definition.args.items():
        if name not in arguments:
            assert not str(argument.type).endswith("!"), f"new argument {name} must be optional"
        if (field, name) in DEFAULTS:
            assert argument.ast_node is not None
            assert argument.ast_node.default_value is not None
            assert print_ast(argument.ast_node.default_value) == str(DEFAULTS[(field, name)])
