"""Enrolment helpers: run a board's whole enrol flow against a running field."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from provisioning.api import Coordinator
from provisioning.enroll import EnrollOptions, enroll
from tests.harness.field import FieldEnv

FIRMWARE = Path(__file__).resolve().parents[2] / "provisioning" / "firmware_configs"


def enroll_board(
    env: FieldEnv, api: Coordinator, bundle: Path, device_id: str | None = None, **kw: Any
) -> dict[str, Any]:
    """Get a token and run the whole enroll flow into ``bundle``."""
    token = api.enrolment_token(device_id)["token"]
    opts = EnrollOptions(
        coordinator=env.url,
        token=token,
        profile=kw.pop("profile", "raspberry-pi-5"),
        lat=29.3066,
        lon=120.0764,
        heading=135.0,
        zone="Z12",
        owner="Yiwu PSB",
        bundle_dir=bundle,
        firmware_dir=FIRMWARE,
        confirm_timeout=kw.pop("confirm_timeout", 10.0),
        # The real self-test costs seconds per board; test_enroll runs it on purpose.
        selftest=kw.pop("selftest", False),
        **kw,
    )
    return enroll(opts, quiet=True)
