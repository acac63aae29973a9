"""Frame sources: failures are reopened with backoff and reported, never a crash."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
from PIL import Image
from skimage import data

from edge_agent.motion import MotionGate
from edge_agent.sources import Frame, SourceError, SupervisedSource
from edge_agent.sources.capture import OpenCvSource
from edge_agent.sources.replay import ReplaySource
from tests.harness.agents import ROOT, agent_config, start_agent
from tests.harness.mqtt import wait_for


class FlakyCamera:
    """A camera that is unplugged for its first ``fail`` opens."""

    name = "flaky"

    def __init__(self, fail: int) -> None:
        self.fail, self.opens = fail, 0

    def open(self) -> None:
        self.opens += 1
        if self.opens <= self.fail:
            raise SourceError("camera unplugged")

    def read(self) -> Frame:
        return Frame(np.zeros((32, 32, 3), np.uint8), 0.0, 0)

    def close(self) -> None:
        pass


def test_supervisor_reopens_with_backoff_and_counts_one_outage() -> None:
    logs: list[str] = []
    cam = FlakyCamera(fail=3)
    sup = SupervisedSource(cam, threading.Event(), min_delay=0.01, max_delay=0.04, log=logs.append)
    frame = sup.read()
    assert frame is not None and cam.opens == 4 and sup.ok
    assert sup.outages == 1  # one outage, however many retries it took
    assert logs and "camera unplugged" in logs[0]


def test_unplugged_v4l2_camera_is_an_outage_not_a_crash() -> None:
    # Tried: a USB camera index that does not exist (unplugged).
    stop = threading.Event()
    sup = SupervisedSource(OpenCvSource("97"), stop, min_delay=0.01, max_delay=0.02)
    threading.Timer(0.3, stop.set).start()
    assert sup.read() is None  # returns when stopped, having never crashed
    assert sup.outages == 1 and not sup.ok and "cannot open" in sup.last_error


def test_replay_folder_skips_an_unreadable_frame(tmp_path: Path) -> None:
    # Tried: a corrupt JPEG between two good frames.
    Image.fromarray(data.astronaut()).save(tmp_path / "a.png")
    (tmp_path / "b.jpg").write_bytes(b"\xff\xd8 this is not really a jpeg")
    Image.fromarray(data.coffee()).save(tmp_path / "c.png")
    sup = SupervisedSource(ReplaySource(tmp_path, fps=5, loop=False), threading.Event(), 0.01, 0.01)
    shapes = []
    while (f := sup.read()) is not None:
        shapes.append(f.rgb.shape)
    assert shapes == [(512, 512, 3), (400, 600, 3)]
    assert sup.outages == 1 and "unreadable frame" in sup.last_error


def test_motion_gate_skips_still_frames_and_rechecks_tracks() -> None:
    gate = MotionGate(width=64, recheck_s=1.0)
    still = data.rocket()
    assert gate.check(still, 0.0, False).detect  # first frame: no background yet
    assert not gate.check(still, 0.1, False).detect
    assert not gate.check(still, 0.5, True).detect
    assert gate.check(still, 1.2, True).detect  # re-check of a still track
    moved = still.copy()
    moved[100:300, 200:300] = 255
    res = gate.check(moved, 1.3, False)
    assert res.detect and res.box is not None and res.motion > 0.01


def test_agent_reports_an_unplugged_camera_in_health(
    tmp_path, test_pki, broker_tls, default_model, agents
):
    from tests.harness.edge import centre

    c = centre(broker_tls.ports[0], test_pki)
    try:
        src = {"kind": "opencv", "uri": "98", "reopen_min_s": 0.1, "reopen_max_s": 0.2}
        cfg = agent_config(
            tmp_path, "cam-unplugged", broker_tls.ports[0], default_model, pki=test_pki, source=src
        )
        a = start_agent(cfg, tmp_path / "a.log")
        agents.append(a)
        wait_for(lambda: any(s.status == "online" for s in c.states), 30, a.text())
        h = wait_for(lambda: [h for h in c.health if h.outages >= 1], 30, a.text())[-1]
        assert h.source_ok is False
        assert "cannot open" in a.text()
        assert a.proc.poll() is None
        assert a.stop() == 0
    finally:
        c.close()


def test_detect_cli_json_on_real_photographs(tmp_path: Path, default_model: Path) -> None:
    Image.fromarray(data.astronaut()).save(tmp_path / "person.png")
    Image.fromarray(data.coffee()).save(tmp_path / "coffee.png")
    (tmp_path / "broken.jpg").write_bytes(b"nope")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "edge_agent.cli",
            "detect",
            str(tmp_path / "person.png"),
            str(tmp_path / "coffee.png"),
            str(tmp_path / "broken.jpg"),
            "--json",
            "--model",
            str(default_model),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    out = json.loads(proc.stdout)
    assert proc.returncode == 1  # one image was unreadable
    assert [d["label"] for d in out[0]["detections"]] == ["person"]
    assert out[1]["detections"] == []
    assert "unreadable" in out[2]["error"]
