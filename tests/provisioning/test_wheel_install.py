"""A board installed as the guide says — `pip install 'citywatch[edge,provisioning]'` — enrols.

The wheel is built from this checkout and installed into a fresh virtual environment, away
from the repository, so nothing the checkout has and the wheel lacks can hide.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from provisioning.api import Coordinator
from tests.harness.field import FieldEnv

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv with the built wheel and its edge and provisioning extras."""
    out = tmp_path_factory.mktemp("wheel")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "-q", "-w", str(out)],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    wheel = next(out.glob("citywatch-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("provisioning/firmware_configs/") for n in names)
    assert not any(n.startswith(("devtools/", "tests/", "bench/")) for n in names)
    venv = out / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", f"citywatch[edge,provisioning] @ {wheel.as_uri()}"],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    return venv


def test_enrol_from_the_installed_wheel_needs_no_firmware_dir(
    installed: Path, field_env: FieldEnv, tech: Coordinator, tmp_path: Path
) -> None:
    token = tech.enrolment_token("cam-wheel-1")["token"]
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    cmd = [
        str(installed / "bin" / "provision"), "enroll", "--coordinator", field_env.url,
        "--token", token, "--profile", "raspberry-pi-4", "--location", "29.31,120.08",
        "--heading", "90", "--zone", "Z03", "--owner", "Futian Market Co.",
        "--owner-type", "company", "--bundle-dir", str(tmp_path / "bundle"),
        "--confirm-timeout", "10", "--no-selftest", "--json",
    ]  # fmt: skip
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=180, cwd=tmp_path, env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    out = json.loads(res.stdout)
    assert out["ok"] and out["device_id"] == "cam-wheel-1"
    # The installed package, not the checkout, supplied the profile.
    where = subprocess.run(
        [str(installed / "bin" / "python"), "-c",
         "import provisioning.enroll as e; print(e.default_firmware_dir())"],
        capture_output=True, text=True, cwd=tmp_path, env=env, check=True,
    )  # fmt: skip
    assert str(installed) in where.stdout


def test_the_board_agent_runs_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    res = subprocess.run(
        [str(installed / "bin" / "edge-agent"), "validate-config",
         str(installed_profile(installed, "raspberry-pi-5"))],
        capture_output=True, text=True, cwd=tmp_path, env=env, timeout=120,
    )  # fmt: skip
    assert res.returncode == 0, res.stdout + res.stderr
    # A board has no coordinator code: importing it from the board's install must fail.
    probe = subprocess.run(
        [str(installed / "bin" / "python"), "-c", "import fastapi"],
        capture_output=True, text=True, cwd=tmp_path, env=env,
    )  # fmt: skip
    assert probe.returncode != 0


def installed_profile(venv: Path, name: str) -> Path:
    """Path of a board profile inside the venv's installed provisioning package."""
    hits = list(venv.glob(f"lib/python*/site-packages/provisioning/firmware_configs/{name}.yaml"))
    assert hits, f"profile {name} not installed"
    return hits[0]
