"""``edge-agent detect`` on folders and the real street clip, and ``run --dry-run``."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml
from PIL import Image
from skimage import data

from protocol import Channel, decode
from tests.harness.footage import STREET_CLIP

ROOT = Path(__file__).resolve().parents[2]


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "edge_agent.cli", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def test_detect_a_video_every_nth_frame_as_json_lines_and_drawn(tmp_path, default_model) -> None:
    assert STREET_CLIP.is_file(), "run `make system-deps` (opencv-doc)"
    proc = cli(
        "detect", str(STREET_CLIP), "--every", "300", "--json", "--draw", str(tmp_path / "d")
    )
    assert proc.returncode == 0, proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [r["frame"] for r in lines] == [0, 300, 600]
    assert lines[1]["t"] == 30.0
    for r in lines:
        labels = [d["label"] for d in r["detections"]]
        assert labels.count("person") >= 3
        for d in r["detections"]:
            assert set(d) <= {"label", "subtype", "score", "box"}
            assert ("subtype" in d) == (d["label"] == "vehicle")
    drawn = sorted((tmp_path / "d").iterdir())
    assert [p.name for p in drawn] == [f"vtest-f{i:06d}.jpg" for i in (0, 300, 600)]
    with Image.open(drawn[0]) as im:
        assert im.size == (768, 576)


def test_detect_a_folder_as_text(tmp_path, default_model) -> None:
    Image.fromarray(data.astronaut()).save(tmp_path / "a.png")
    Image.fromarray(data.stereo_motorcycle()[0]).save(tmp_path / "b.jpg")
    proc = cli("detect", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert "a.png: 1 detection(s)" in proc.stdout and "person" in proc.stdout
    assert "vehicle/motorcycle" in proc.stdout


def test_detect_with_the_pose_model_still_works(tmp_path, pose_model) -> None:
    Image.fromarray(data.astronaut()).save(tmp_path / "a.png")
    proc = cli("detect", str(tmp_path / "a.png"), "--kind", "pose", "--json")
    assert proc.returncode == 0, proc.stderr
    assert [d["label"] for d in json.loads(proc.stdout)[0]["detections"]] == ["person"]


def test_dry_run_prints_the_events_it_would_publish(tmp_path, default_model) -> None:
    cfg = {
        "device_id": "cam-dry",
        "source": {"kind": "replay", "path": str(STREET_CLIP), "loop": False, "realtime": False},
        # no broker is reachable at this address: nothing may try to connect
        "broker": {"host": "192.0.2.1", "port": 8883},
        "spool": {"path": str(tmp_path / "never.db")},
        "rules": {
            "rev": 1,
            "zones": [
                {
                    "name": "parking",
                    "rule": "intrusion",
                    "points": [[0.75, 0.0], [1.0, 0.0], [1.0, 0.3], [0.75, 0.3]],
                    "labels": ["vehicle"],
                }
            ],
        },
    }
    path = tmp_path / "agent.yaml"
    path.write_text(yaml.safe_dump(cfg))
    proc = cli("run", "--config", str(path), "--dry-run", "--max-frames", "40")
    assert proc.returncode == 0, proc.stderr
    rows = [json.loads(line) for line in proc.stdout.splitlines()]
    assert rows and all(r["topic"] == "cw/v1/dev/cam-dry/event" for r in rows)
    events = [decode(Channel.EVENT, json.dumps(r["payload"]).encode()) for r in rows]
    assert any(e.label == "person" and e.kind == "presence" for e in events)
    parked = [r for r, e in zip(rows, events, strict=True) if e.kind == "intrusion"]
    assert parked and all(r["payload"]["l"] == "vehicle" for r in parked)
    assert {r["payload"]["sub"] for r in parked} <= {"car", "truck"}
    assert "none published" in proc.stderr
    assert not (tmp_path / "never.db").exists()
