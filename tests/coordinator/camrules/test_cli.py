"""``coordinator rules show|set|rollback`` against a real SQLite file."""

from __future__ import annotations

import json

from coordinator.cli import main

CSV = "id,owner_org,owner_type,lat,lon,zone,profile\ncam-1,Yiwu PSB,government,29.3,120.07,Z01,raspberry-pi-5\n"


def test_rules_commands(tmp_path, capsys):
    cfg = tmp_path / "s.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'd'}\ndev_mode: true\nsecret_key: {'k' * 40}\ndata_key: {'d' * 40}\n"
    )
    fleet = tmp_path / "fleet.csv"
    fleet.write_text(CSV)
    s = ["--settings", str(cfg)]
    assert main(["load-fleet", str(fleet), *s]) == 0  # registration seeds revision 1
    rules = tmp_path / "rules.yaml"
    rules.write_text(
        "zones:\n  - {name: gate, rule: intrusion, points: [[0, 0], [1, 0], [1, 1]]}\n"
    )
    capsys.readouterr()
    assert main(["rules", "set", "cam-1", str(rules), "--reason", "gate only", *s]) == 0
    assert "revision 2" in capsys.readouterr().out
    quiet = tmp_path / "quiet.yaml"
    quiet.write_text("thresholds: {person: 0.5}\n")
    assert main(["rules", "set", "cam-1", str(quiet), "--reason", "quiet", *s]) == 1
    assert "confirm_no_incident_rules" in capsys.readouterr().err
    assert main(["rules", "rollback", "cam-1", "--to-rev", "1", "--reason", "undo", *s]) == 0
    capsys.readouterr()
    assert main(["rules", "show", "cam-1", "--json", *s]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [r["rev"] for r in out["revisions"]] == [3, 2, 1]
    assert out["revisions"][0]["rolled_back_to"] == 1 and out["status"]["drift"] is True
    assert main(["rules", "show", "cam-1", *s]) == 0
    assert "desired rev 3" in capsys.readouterr().out
