from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gql_analytics.domain import validation
from gql_analytics.errors import InvalidRecord

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize("name", ["a", "user_signup", "api.latency:p-1", "x" * 120])
def test_good_names_pass(name: str) -> None:
    assert validation.name(name) == name


@pytest.mark.parametrize("name", ["", "x" * 121, "has space", "émoji", "newline\n", None, 5])
def test_bad_names_are_refused(name: object) -> None:
    with pytest.raises(InvalidRecord, match="name"):
        validation.name(name)


def test_properties_over_32_kb_are_refused() -> None:
    with pytest.raises(InvalidRecord, match="32 KB"):
        validation.properties({"blob": "x" * (32 * 1024)})


@pytest.mark.parametrize("character", ["é", "日", "\U0001f600"])
def test_the_32_kb_of_properties_are_utf8_bytes(character: str) -> None:
    size = len(character.encode())  # 2, 3 and 4 bytes; escaped as JSON, 6 to 12
    fits = {"note": character * ((32 * 1024 - 20) // size)}
    assert validation.properties(fits) == fits
    with pytest.raises(InvalidRecord, match="32 KB"):
        validation.properties({"note": character * (32 * 1024 // size + 1)})


def test_properties_must_be_an_object() -> None:
    with pytest.raises(InvalidRecord, match="object"):
        validation.properties([1, 2])


def test_more_than_20_tags_are_refused() -> None:
    with pytest.raises(InvalidRecord, match="20"):
        validation.tags({f"t{i}": "v" for i in range(21)})


def test_tag_values_must_be_strings() -> None:
    with pytest.raises(InvalidRecord) as raised:
        validation.tags({"region": 5})
    assert raised.value.field == "tags.region"


@pytest.mark.parametrize(
    "value", [float("inf"), float("-inf"), float("nan"), True, "1", 10**400, 1.5e15, -(10**16)]
)
def test_values_must_be_finite_numbers(value: object) -> None:
    with pytest.raises(InvalidRecord):
        validation.value(value)


def test_occurred_at_more_than_five_minutes_ahead_is_refused() -> None:
    limits = validation.Limits(NOW)
    assert limits.occurred_at(NOW + timedelta(minutes=5)) == NOW + timedelta(minutes=5)
    with pytest.raises(InvalidRecord, match="future"):
        limits.occurred_at(NOW + timedelta(minutes=5, seconds=1))


def test_occurred_at_older_than_retention_is_refused() -> None:
    limits = validation.Limits(NOW, retention=timedelta(days=30))
    with pytest.raises(InvalidRecord, match="retention"):
        limits.occurred_at(NOW - timedelta(days=31))


def test_occurred_at_defaults_to_now_and_naive_means_utc() -> None:
    limits = validation.Limits(NOW)
    assert limits.occurred_at(None) == NOW
    assert limits.occurred_at(datetime(2026, 11, 20, 11, 0)) == datetime(
        2026, 11, 20, 11, 0, tzinfo=UTC
    )


def test_properties_with_a_lone_surrogate_are_refused() -> None:
    with pytest.raises(InvalidRecord, match="Unicode"):
        validation.properties({"note": "\ud800"})
    assert validation.properties({"smile": "\U0001f600"}) == {"smile": "\U0001f600"}
