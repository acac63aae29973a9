"""`make demo` in miniature: the one-command city comes up and every part works."""

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
            "--no-enrol",
            "--cameras",
            "800",
            "--agents",
            "1",
            "--units",
            "8",
        ],
        capture_output=True,
        text=True,
        timeout=400,
        cwd=ROOT,
    )
    out = res.stdout + res.stderr
    assert res.returncode == 0, out[-3000:]
    assert "Dashboard: http://127.0.0.1:" in out
    assert "FAIL" not in out and out.count("PASS") >= 6, out[-2000:]
    assert "stopped cleanly" in out
