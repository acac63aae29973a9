"""The golden comparison itself: what it ignores, what it reports."""

from __future__ import annotations

import datetime as dt

import pytest

from tests.golden.compare import Allowed, Normaliser, differences

TODAY = dt.date(2026, 6, 1)


def test_volatile_values_become_placeholders_numbered_by_first_appearance() -> None:
    """Two runs with different ids, times and tokens normalise to the same value."""
    run = [
        {
            "id": "01a22d95658a7142a7774a75c20c9be3",
            "other": "0190aaaa-bbbb-7ccc-8ddd-eeeeeeeeeeee",
            "access_token": "abc",
            "created_at": 1780315200.5,
            "seq": 7,
            "due_date": "2026-06-11",
            "dob": "1985-03-12",
            "eta_s": 155.71234,
            "note": "incident 01a22d95658a7142a7774a75c20c9be3 merged",
        }
    ]
    out = Normaliser(TODAY)(run)
    assert out == [
        {
            "id": "<uuid1>",
            "other": "<uuid2>",
            "access_token": "<token>",
            "created_at": "<ts>",
            "seq": 7,
            "due_date": "<today+10d>",
            "dob": "1985-03-12",
            "eta_s": 155.7123,
            "note": "incident <uuid1> merged",
        }
    ]


@pytest.mark.parametrize(
    ("golden", "actual", "expected"),
    [
        ({"a": 1, "b": 2}, {"a": 1, "b": 2, "c": 3}, []),
        ({"a": 1, "b": 2}, {"a": 1}, [("$.b", "field dropped (was 2)")]),
        ({"a": {"b": "x"}}, {"a": {"b": "y"}}, [("$.a.b", "was 'x', now 'y'")]),
        ({"a": 1}, {"a": 1.0}, [("$.a", "was 1, now 1.0")]),
        ([1, 2], [1], [("$", "list had 2 items, now 1")]),
        ([{"r": "x"}], [{"r": ["x"]}], [("$[0].r", "was 'x', now ['x']")]),
    ],
)
def test_differences_report_dropped_and_changed_fields_only(
    golden: object, actual: object, expected: list[tuple[str, str]]
) -> None:
    """Added fields pass; dropped, changed or re-typed ones name their JSON path."""
    assert list(differences(golden, actual)) == expected


def test_allowed_differences_match_call_and_path_with_wildcards() -> None:
    """An allow-list entry covers exactly the calls and paths it names."""
    fix = Allowed("GET /api/fraud/alerts", "$[*].company", "screen fix")
    assert fix.covers("GET /api/fraud/alerts", "$[0].company")
    assert not fix.covers("GET /api/fraud/alerts", "$[0].companies")
    assert not fix.covers("GET /api/fraud/warnings", "$[0].company")
