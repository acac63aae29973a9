"""Owners' sharing agreements (pure): levels, hours, validity, the refusal's words."""

from __future__ import annotations

import pytest

from coordinator.fleet.agreements import (
    Agreement,
    Level,
    default_for,
    in_hours,
    level_at,
    owner_type_of,
    why_not,
)

H = 3600.0


@pytest.mark.parametrize(
    ("hour", "start", "end", "inside"),
    [
        (9, 8, 20, True),
        (20, 8, 20, False),
        (7.99, 8, 20, False),
        (23, 22, 6, True),
        (3, 22, 6, True),
        (6, 22, 6, False),
        (12, None, None, True),
        (12, 5, 5, True),
    ],
)
def test_hours_of_the_day(hour, start, end, inside):
    assert in_hours(hour, start, end) is inside


def test_the_level_in_force_falls_to_events_outside_hours_and_validity():
    a = Agreement(Level.SNAPSHOTS, hours_from=8, hours_to=20, valid_from=100 * H, valid_to=200 * H)
    # UTC offset 0: the hour of the day is ts / 3600 mod 24.
    assert level_at(a, 130 * H, 0) is Level.SNAPSHOTS  # 10:00
    assert level_at(a, 140 * H, 0) is Level.EVENTS  # 20:00
    assert level_at(a, 10 * H, 0) is Level.EVENTS  # before it is in force
    assert level_at(a, 202 * H + 10 * H, 0) is Level.EVENTS  # expired
    assert level_at(a, 126 * H, 8) is Level.SNAPSHOTS  # 06:00 UTC is 14:00 at UTC+8


@pytest.mark.parametrize(
    ("terms", "wanted", "words"),
    [
        (Agreement(Level.EVENTS), Level.SNAPSHOTS, "shares events only, not frames"),
        (Agreement(Level.SNAPSHOTS), Level.LIVE, "shares snapshots only, not live view"),
        (Agreement(Level.LIVE, 8, 9), Level.SNAPSHOTS, "only between 8:00 and 9:00"),
        (Agreement(Level.LIVE, valid_to=1.0), Level.LIVE, "not in force now"),
        (Agreement(Level.LIVE), Level.LIVE, None),
    ],
)
def test_why_not_says_why_in_one_sentence(terms, wanted, words):
    why = why_not("cam-1", terms, 12 * H, 0, wanted)
    assert (why is None) if words is None else (words in why and "cam-1" in why)


def test_defaults_and_labels_follow_the_kind():
    assert default_for("government").level is Level.LIVE
    assert default_for("school").level is Level.SNAPSHOTS
    assert [owner_type_of(k) for k in ("government", "company", "school", "hospital")] == [
        "government",
        "company",
        "community",
        "community",
    ]
    assert Level.LIVE.allows(Level.SNAPSHOTS) and not Level.EVENTS.allows(Level.SNAPSHOTS)
