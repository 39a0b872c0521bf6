"""The time zones the calendar arithmetic is proven on, and moments around their DST changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from gql_analytics.domain.offsets import stretches

ZONES = [
    ZoneInfo(name)
    for name in (
        "UTC",
        "Europe/Berlin",
        "America/New_York",
        "Asia/Kolkata",  # +5:30
        "Asia/Kathmandu",  # +5:45
        "Australia/Adelaide",  # +9:30, +10:30 in DST
        "Australia/Lord_Howe",  # a 30-minute DST change
        "America/Havana",  # clocks go back from 01:00 to midnight: midnight happens twice
        "America/Santiago",  # clocks spring from midnight: a day without its midnight
    )
]
_CHANGES = {
    zone: [
        piece.start
        for piece in stretches(
            zone, datetime(2024, 1, 1, tzinfo=UTC), datetime(2028, 1, 1, tzinfo=UTC)
        )[1:]
    ]
    for zone in ZONES
}


@st.composite
def around_transitions(draw: st.DrawFn) -> tuple[ZoneInfo, datetime]:
    """A zone, and a moment within two days of one of its offset changes (any moment of
    1972-2100 now and then, and always for a zone without changes)."""
    zone = draw(st.sampled_from(ZONES))
    changes = _CHANGES[zone]
    if not changes or draw(st.integers(0, 9)) == 0:
        seconds = draw(st.integers(63_072_000, 4_102_444_800))  # 1972 to 2100
        return zone, datetime.fromtimestamp(seconds, UTC)
    change = draw(st.sampled_from(changes))
    return zone, change + timedelta(
        microseconds=draw(st.integers(-2 * 86_400 * 10**6, 2 * 86_400 * 10**6))
    )
