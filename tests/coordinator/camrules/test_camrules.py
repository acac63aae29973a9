"""Camera rules at the centre: seeded defaults, revisions, confirmation, rollback, roles,
false-alarm approvals that keep every zone (real SQLite, the real API)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from coordinator.bootstrap import role_matrix
from coordinator.camrules import permissions
from coordinator.camrules.defaults import profile_defaults
from coordinator.camrules.service import NeedsConfirmation, incident_rules, to_config
from coordinator.identity.permissions import Role
from tests.harness.api import bearer
from tests.harness.core import register

SQUARE = [[0.1, 0.1], [0.6, 0.1], [0.6, 0.9], [0.1, 0.9]]
RULES: dict[str, Any] = {
    "thresholds": {"person": 0.5, "vehicle": 0.35},
    "schedules": {"night": [{"days": [0, 1, 2, 3, 4, 5, 6], "start": "22:00", "end": "06:00"}]},
    "zones": [
        {"name": "gate", "rule": "intrusion", "points": SQUARE, "schedule": "night"},
        {"name": "atm", "rule": "loitering", "points": SQUARE, "dwell_s": 90},
        {"name": "square", "rule": "crowd", "points": SQUARE, "min_count": 12},
        {"name": "lane", "rule": "line_crossing", "points": [[0, 0.5], [1, 0.5]]},
    ],
    "masks": {
        "privacy": [{"name": "flat", "points": [[0.7, 0.0], [1.0, 0.0], [1.0, 0.3]]}],
        "object": [{"name": "poster", "points": [[0.4, 0.1], [0.5, 0.1], [0.5, 0.3]]}],
    },
}
PRESENCE_ONLY: dict[str, Any] = {"thresholds": {"person": 0.5}}


@pytest.fixture
def cams(services):
    register(services)
    return services.camrules


def test_registration_seeds_conservative_profile_defaults(cams):
    revs = cams.revisions("cam-0")
    assert [r["rev"] for r in revs] == [1]
    assert revs[0]["author"] == "system" and "profile" in revs[0]["reason"]
    cfg = to_config(revs[0]["rules"], 1)
    assert cfg.thresholds["vehicle"] == 0.35  # real vehicles score near 0.5
    by_name = {z.name: z for z in cfg.zones}
    assert by_name["night-intrusion"].schedule == "night"
    assert by_name["loitering"].dwell_s is not None and by_name["loitering"].dwell_s >= 60
    assert incident_rules(cfg)


def test_registering_again_never_reseeds(services, cams):
    cams.set("cam-0", RULES, "tech", "gate and lane")
    register(services)  # an update of the registry entry
    assert [r["rev"] for r in cams.revisions("cam-0")] == [2, 1]


def test_every_profile_default_raises_incidents():
    for profile in (None, "raspberry-pi-4", "raspberry-pi-5", "jetson-orin-nano"):
        assert incident_rules(to_config(profile_defaults(profile), 1))


def test_a_revision_without_incident_rules_needs_confirmation(cams):
    with pytest.raises(NeedsConfirmation, match="confirm_no_incident_rules"):
        cams.set("cam-0", PRESENCE_ONLY, "tech", "quiet camera")
    # A zone that never runs (an empty schedule) raises nothing either.
    never = copy.deepcopy(RULES)
    never["zones"] = [{**never["zones"][0], "schedule": "off"}]
    never["schedules"] = {"off": []}
    with pytest.raises(NeedsConfirmation):
        cams.set("cam-0", never, "tech", "gate only when off")
    row = cams.set("cam-0", PRESENCE_ONLY, "tech", "quiet camera", confirm_no_incident_rules=True)
    assert row["rev"] == 2


def test_approving_a_false_alarm_proposal_keeps_every_zone(services, cams):
    cams.set("cam-0", RULES, "tech", "gate, atm, square, lane")

    def proposal(db):
        return (
            db.table("config_proposals")
            .insert(
                {
                    "device_id": "cam-0",
                    "rule": "intrusion",
                    "label": "person",
                    "current": 0.5,
                    "proposed": 0.6,
                    "dismissed": 5,
                    "total": 6,
                    "rate": 0.83,
                    "status": "pending",
                    "created_at": 1.0,
                }
            )
            .last_pk
        )

    pid = services.db.write(proposal)
    services.tuning.decide(pid, True, "op")
    latest = cams.current("cam-0")
    assert latest["rev"] == 3 and latest["author"] == "op" and "proposal" in latest["reason"]
    got = latest["rules"]
    assert [z["name"] for z in got["zones"]] == ["gate", "atm", "square", "lane"]
    assert got["thresholds"] == {"person": 0.6, "vehicle": 0.35}
    assert got["masks"] == RULES["masks"] and got["schedules"] == RULES["schedules"]
    # Only the proposal's rule gets the zone threshold; the others are as they were.
    assert [z.get("min_score") for z in got["zones"]] == [0.6, None, None, None]


def test_api_revisions_rollback_roles_and_drift(api, services, tokens, cams):
    tech, op = bearer(tokens[Role.TECHNICIAN]), bearer(tokens[Role.OPERATOR])
    url = "/api/cameras/cam-0/rules"
    body = {"rules": RULES, "reason": "gate and lane for the depot"}
    assert api.put(url, json=body, headers=op).status_code == 403
    r = api.put(url, json=body, headers=tech)
    assert r.status_code == 201, r.text
    assert r.json()["rev"] == 2 and r.json()["author"] == "u-technician"
    r = api.put(url, json={"rules": PRESENCE_ONLY, "reason": "quiet"}, headers=tech)
    assert r.status_code == 409 and "without any rule that raises an incident" in r.json()["detail"]
    bad = {
        "rules": {"zones": [{"name": "x", "rule": "loitering", "points": SQUARE}]},
        "reason": "x y",
    }
    r = api.put(url, json=bad, headers=tech)
    assert r.status_code == 422 and "dwell_s" in r.json()["detail"]
    assert api.put("/api/cameras/nope/rules", json=body, headers=tech).status_code == 404
    sup = api.post(
        url + "/rollback",
        json={"to_rev": 1, "reason": "back to the defaults"},
        headers=bearer(tokens[Role.SUPERVISOR]),
    )
    assert sup.status_code == 201, sup.text
    assert sup.json()["rev"] == 3 and sup.json()["rolled_back_to"] == 1
    got = api.get(url, headers=op).json()
    assert [r["rev"] for r in got["revisions"]] == [3, 2, 1]
    assert got["current"]["rules"] == got["revisions"][2]["rules"]
    assert got["status"]["desired_rev"] == 3 and got["status"]["drift"] is True
    assert got["status"]["applied_rev"] is None  # the board has not reported yet
    drift = api.get("/api/cameras/rules/drift", headers=op).json()
    assert {d["device_id"] for d in drift} == {"cam-0", "cam-1", "cam-2", "cam-9"}
    assert api.get(url, headers=bearer(tokens[Role.MERCHANT])).status_code == 403
    actions = [
        a["action"]
        for a in services.db.query(
            "select action from audit_log where subject_id = 'cam-0' order by id"
        )
    ]
    assert actions.count("camera_rules_set") == 2 and actions[-1] == "camera_rules_rollback"
    device = api.get("/api/devices/cam-0", headers=op).json()
    assert device["rules"]["desired_rev"] == 3


def test_operators_read_rules_technicians_and_supervisors_edit_them():
    matrix = role_matrix()
    editors = {r for r in Role if permissions.EDIT in matrix[r]}
    readers = {r for r in Role if permissions.READ in matrix[r]}
    assert editors == {Role.ADMIN, Role.SUPERVISOR, Role.TECHNICIAN}
    assert readers == editors | {Role.OPERATOR}


def test_board_profiles_carry_the_centres_default_rules():
    import yaml

    from coordinator.camrules.service import rules_of

    folder = Path(__file__).resolve().parents[3] / "provisioning" / "firmware_configs"
    profiles = sorted(folder.glob("*.yaml"))
    assert profiles
    for path in profiles:
        rules = yaml.safe_load(path.read_text())["rules"]
        assert rules.pop("rev") == 0, path.name
        want = rules_of(to_config(profile_defaults(path.stem), 1))
        assert rules_of(to_config(rules, 1)) == want, path.name
