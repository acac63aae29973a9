"""The rules a new camera starts with, per board profile: conservative on purpose.

A city of freshly enrolled boards must not flood the incident queue, so the defaults only
raise incidents for what is unusual on a street: a person anywhere in view at night
(22:00-06:00), a person staying in view for a minute or more, and crossings of a counting
line across the middle of the frame at night. Vehicles get their own lower score threshold:
a general detector scores real vehicles near 0.5, where the protocol's default ``min_score``
would drop half of them. The provisioning profiles carry the same rules
(``provisioning/firmware_configs/*.yaml``, key ``rules``; a test keeps them equal), so a
board runs them even before it first hears from the centre.
"""

from __future__ import annotations

from typing import Any

FULL_FRAME = [[0.0, 0.0], [1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
NIGHT = [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]

#: Seconds a person must stay in view before loitering is reported.
LOITER_S = 60.0

BASE: dict[str, Any] = {
    "min_score": 0.5,
    "thresholds": {"person": 0.5, "vehicle": 0.35},
    "schedules": {"night": NIGHT},
    "zones": [
        {
            "name": "night-intrusion",
            "rule": "intrusion",
            "points": FULL_FRAME,
            "labels": ["person"],
            "schedule": "night",
        },
        {
            "name": "loitering",
            "rule": "loitering",
            "points": FULL_FRAME,
            "labels": ["person"],
            "dwell_s": LOITER_S,
        },
        {
            "name": "count-line",
            "rule": "line_crossing",
            "points": [[0.0, 0.6], [1.0, 0.6]],
            "labels": ["person", "vehicle"],
            "direction": "both",
            "schedule": "night",
        },
    ],
}

#: Per-profile changes to BASE, top-level keys replaced (none yet: every profile's
#: detector is tuned to the same thresholds; a profile that differs says so here).
PROFILE_CHANGES: dict[str, dict[str, Any]] = {}


def profile_defaults(profile: str | None) -> dict[str, Any]:
    """The default rules of a board profile (BASE for an unknown or missing profile)."""
    import copy

    out = copy.deepcopy(BASE)
    out.update(copy.deepcopy(PROFILE_CHANGES.get(profile or "", {})))
    return out
