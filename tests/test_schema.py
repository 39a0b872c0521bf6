from __future__ import annotations

from pathlib import Path

from gql_analytics.api.schema import export_sdl

SCHEMA_FILE = Path(__file__).resolve().parent.parent / "schema.graphql"

CONTRACT_FIELDS = [
    "events(filter: EventFilter = null, first: Int = 50, after: String = null): EventConnection!",
    "eventCounts(names: [String!] = null, range: TimeRange = null, interval: Interval = HOUR): [EventSeries!]!",
    "trackEvents(inputs: [EventInput!]!): TrackResult!",
    "topEvents(range: TimeRange = null, limit: Int = 10): [TopEvent!]!",
    "activeUsers(range: TimeRange = null, interval: Interval = DAY): ActiveUsers!",
    "eventCount(name: String!, range: TimeRange = null): EventCountUpdate!",
]


def test_schema_graphql_is_the_exported_sdl() -> None:
    assert SCHEMA_FILE.read_text() == export_sdl(), (
        "schema.graphql drifted from the code: run `make schema` and commit it"
    )


def test_contract_fields_are_present() -> None:
    sdl = export_sdl()
    for field in CONTRACT_FIELDS:
        assert field in sdl
