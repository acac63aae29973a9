"""`make demo` in miniature: the one-command city comes up and every part works, including
the enrolment walkthrough and an incident raised from real footage by a fresh board."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_demo_once_brings_the_city_up_and_every_part_passes():
    res = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--once",
            "--cameras",
            "800",
            "--agents",
            "1",
            "--units",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=700,
        cwd=ROOT,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "Dashboard: http://127.0.0.1:" in out
    assert "FAIL" not in out and out.count("PASS") >= 7, out[-2000:]
    # A freshly enrolled board's real agent replayed the real street clip under the rules the
    # centre seeded from its profile's defaults, and the centre opened an incident from it.
    assert "PASS  incident from real footage, fresh board's default rules" in out, out[-2000:]
    assert "vtest.avi replayed as filmed at 23:00 under its seeded rules rev 1" in out
    # The real agents came through the production broker's mTLS door; the simulated boards
    # use the dev-only simulator account, and the demo says so.
    assert "production config from `provision broker-config`" in out
    assert "enrolled through the real flow and connected with its own certificate" in out
    assert "simulator account" in out and "dev mode only" in out
    assert "stopped cleanly" in out
