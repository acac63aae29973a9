"""Is a stated reason a reason (pure, literal inputs)."""

from __future__ import annotations

import pytest

from coordinator.approvals.reasons import reason_problem


@pytest.mark.parametrize(
    "text",
    [
        "wage dispute hotline call 2026-117",
        "tenant of Beiyuan 3 reported missing by his employer",
        "核查2026-117案件中租户身份",
        "110接警：房东报称租客失联，核实身份",
        "case 88: check the landlord's other lettings",
    ],
)
def test_reasons_that_say_something_pass(text):
    assert reason_problem(text) is None


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "at least"),
        ("need", "at least"),
        ("aaaaaaaaaaaaaaaaaaaa", "too few different"),
        ("asdfasdfasdfasdfasdf", "too few different"),
        ("qwertyuiop", "at least"),
        ("1234567890123456789", "needs words"),
        ("checking checking checking", "same word"),
        ("investigation ongoing", "3 words"),
        ("核核核核核核核核核核", "too few different"),
        ("x" * 501, "at most"),
        ("a a a a a a a a a a b c d e f g", "one character repeated"),
    ],
)
def test_junk_is_refused_with_why(text, why):
    problem = reason_problem(text)
    assert problem is not None and why in problem
