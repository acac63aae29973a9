"""A camera's evidence-sharing terms (pure)."""

from __future__ import annotations

import pytest

from coordinator.fleet.sharing import EvidenceSharing, effective_sharing, refusal


@pytest.mark.parametrize(
    "owner,setting,terms",
    [
        ("government", None, EvidenceSharing.ALWAYS),
        ("company", None, EvidenceSharing.ON_REQUEST),
        ("community", None, EvidenceSharing.ON_REQUEST),
        (None, None, EvidenceSharing.ON_REQUEST),
        ("government", "none", EvidenceSharing.NONE),
        ("company", "always", EvidenceSharing.ALWAYS),
    ],
)
def test_setting_wins_over_the_owner_default(owner, setting, terms):
    assert effective_sharing(owner, setting) is terms


@pytest.mark.parametrize(
    "owner,setting,purpose,refused_because",
    [
        ("government", None, None, None),
        ("company", None, None, "only with a stated purpose"),
        ("company", None, "  ", "only with a stated purpose"),
        ("company", None, "case 2026-114, theft at gate 3", None),
        ("community", "none", "case 2026-114", "does not share evidence frames"),
        ("government", "none", None, "does not share evidence frames"),
    ],
)
def test_refusal_says_why(owner, setting, purpose, refused_because):
    why = refusal("cam-7", owner, setting, purpose)
    if refused_because is None:
        assert why is None
    else:
        assert why is not None and refused_because in why and "cam-7" in why
