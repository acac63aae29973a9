"""Agent config: the shipped board profiles validate; bad YAML gives file:line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from edge_agent.cli import main
from edge_agent.config import ConfigError, load_config

ROOT = Path(__file__).resolve().parents[2]
PROFILES = sorted((ROOT / "provisioning" / "firmware_configs").glob("*.yaml"))

GOOD = """\
device_id: cam-1
source:
  kind: synthetic
rules:
  rev: 1
  zones:
    - name: yard
      rule: intrusion
      points: [[0, 0], [1, 0], [1, 1]]
"""


def test_every_board_profile_is_shipped_and_valid() -> None:
    names = {p.stem for p in PROFILES}
    assert names == {
        "raspberry-pi-4",
        "raspberry-pi-5",
        "raspberry-pi-coral",
        "jetson-orin-nano",
        "rtsp-gateway",
    }
    for p in PROFILES:
        cfg = load_config(p)
        assert cfg.profile == p.stem
        assert cfg.broker.tls is not None, f"{p.name} must use mutual TLS"
        assert "#" in p.read_text(), f"{p.name} must explain its choices in comments"


def test_relative_paths_are_relative_to_the_config_file(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(GOOD + "spool: {path: data/spool.db}\n")
    cfg = load_config(tmp_path / "a.yaml")
    assert cfg.spool.path == tmp_path / "data" / "spool.db"
    assert cfg.rules_config().zones[0].name == "yard"


@pytest.mark.parametrize(
    ("text", "line", "needle"),
    [
        # Tried: broken YAML indentation.
        ("device_id: cam-1\nsource:\n  kind: synthetic\n   fps: 3\n", 4, "malformed YAML"),
        # Tried: an unknown key (typo) under source.
        ("device_id: cam-1\nsource:\n  kind: synthetic\n  fsp: 3\n", 4, "source.fsp"),
        # Tried: an out-of-range value.
        ("device_id: cam-1\nsource:\n  kind: synthetic\n  fps: -2\n", 4, "source.fps"),
        # Tried: a device id that would break MQTT topics.
        ("device_id: 'cam/1#'\nsource: {kind: synthetic}\n", 1, "device_id"),
        # Tried: a bad zone deep inside rules.
        (GOOD.replace("rule: intrusion", "rule: teleport"), 8, "rules.zones.0.rule"),
        # Tried: an unknown rule field.
        (GOOD + "  colour: red\n", 4, "colour"),
        # Tried: a missing required section.
        ("device_id: cam-1\n", 1, "source"),
        # Tried: not a mapping at all.
        ("- just\n- a list\n", 1, "mapping"),
    ],
)
def test_bad_config_reports_file_and_line(
    tmp_path: Path, text: str, line: int, needle: str
) -> None:
    p = tmp_path / "agent.yaml"
    p.write_text(text)
    with pytest.raises(ConfigError) as exc:
        load_config(p)
    first = exc.value.problems[0]
    assert first.startswith(f"{p}:{line}:"), first
    assert needle in first


def test_validate_config_cli_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = tmp_path / "good.yaml", tmp_path / "bad.yaml"
    good.write_text(GOOD)
    bad.write_text("device_id: cam-1\nsource:\n  kind: webcam\n")
    assert main(["validate-config", str(good)]) == 0
    assert main(["validate-config", str(bad)]) == 1
    out = capsys.readouterr().out
    assert f"{bad}:3: source.kind" in out


def test_edge_agent_imports_nothing_from_the_centre() -> None:
    # The board installs only the `edge` extra: no coordinator/provisioning/fastapi import.
    code = (
        "import sys, edge_agent.agent, edge_agent.cli, edge_agent.selftest;"
        "bad=[m for m in sys.modules if m.split('.')[0] in "
        "('coordinator','provisioning','fastapi','sqlite_utils','skimage')];"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr


EXPECTED_DETECTOR = {
    "raspberry-pi-4": "ssd_oid",
    "raspberry-pi-5": "nanodet",
    "raspberry-pi-coral": "ssd_oid",
    "jetson-orin-nano": "nanodet",
    "rtsp-gateway": "nanodet",
}


@pytest.mark.parametrize("profile", PROFILES, ids=lambda p: p.stem)
def test_every_profile_names_its_detector(profile: Path) -> None:
    import yaml

    raw = yaml.safe_load(profile.read_text())
    assert raw["detector"]["kind"] == EXPECTED_DETECTOR[profile.stem]
    cfg = load_config(profile)
    assert cfg.detector.kind == EXPECTED_DETECTOR[profile.stem]
    assert cfg.model_path().name in {"nanodet-g-416.onnx", "ssd_mobilenetv2_oidv4_fp16.tflite"}


def test_a_config_without_a_detector_gets_nanodet_with_per_class_thresholds(tmp_path) -> None:
    (tmp_path / "a.yaml").write_text("device_id: cam-1\nsource: {kind: synthetic}\n")
    det = load_config(tmp_path / "a.yaml").detector
    assert det.kind == "nanodet" and det.providers == ["cpu"]
    assert det.thresholds["person"] > det.thresholds["car"]


@pytest.mark.parametrize(
    ("detector", "needle"),
    [
        ("{kind: nanodet, edgetpu: true}", "edgetpu needs a LiteRT kind"),
        ("{kind: pose, providers: [cuda, cpu]}", "providers applies to"),
        ("{kind: nanodet, providers: [opencl]}", "detector.providers"),
        ("{kind: nanodet, thresholds: {dog: 0.5}}", "detector.thresholds.dog"),
        ("{kind: nanodet, thresholds: {car: 1.5}}", "detector.thresholds.car"),
        ("{kind: yolo}", "detector.kind"),
        ("{kind: nanodet, labels: x.txt}", "labels applies to kind 'ssd'"),
    ],
)
def test_bad_detector_sections_are_refused_with_their_line(tmp_path, detector, needle) -> None:
    (tmp_path / "a.yaml").write_text(
        f"device_id: cam-1\nsource: {{kind: synthetic}}\ndetector: {detector}\n"
    )
    with pytest.raises(ConfigError) as exc:
        load_config(tmp_path / "a.yaml")
    assert any(needle in p and ":3:" in p for p in exc.value.problems), exc.value.problems


def test_an_absolute_replay_path_is_kept(tmp_path: Path) -> None:
    clip = tmp_path / "clips" / "gate.avi"
    (tmp_path / "a.yaml").write_text(f"device_id: cam-1\nsource: {{kind: replay, path: {clip}}}\n")
    assert load_config(tmp_path / "a.yaml").source.path == clip
