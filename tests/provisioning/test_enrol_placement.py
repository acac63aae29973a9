"""Enrolment checks the zone against the centre's registry and the location against the zone."""

from __future__ import annotations

from pathlib import Path

import pytest

from provisioning.api import Coordinator
from provisioning.enroll import EnrollOptions, enroll
from tests.harness.field import FieldEnv


def _square(zid: str, lat: float, lon: float, half: float = 0.005) -> dict:
    ring = [
        [lon - half, lat - half], [lon + half, lat - half], [lon + half, lat + half],
        [lon - half, lat + half], [lon - half, lat - half],
    ]  # fmt: skip
    return {
        "type": "Feature",
        "properties": {"id": zid, "kind": "patrol"},
        "geometry": {"type": "Polygon", "coordinates": [ring]},
    }


@pytest.fixture(scope="module", autouse=True)
def zones(field_env: FieldEnv) -> None:
    """Two neighbouring patrol zones: Z12 west, Z13 east (about 1 km wide each)."""
    field_env.services.geo.load_zones(
        {
            "type": "FeatureCollection",
            "features": [_square("Z12", 29.3066, 120.0764), _square("Z13", 29.3066, 120.0864)],
        }
    )


def _enrol(env: FieldEnv, token: str, tmp: Path, zone: str, lat: float, lon: float) -> dict:
    return enroll(
        EnrollOptions(
            coordinator=env.url, token=token, profile="raspberry-pi-5", lat=lat, lon=lon,
            heading=90.0, zone=zone, owner="Yiwu PSB", bundle_dir=tmp, confirm_timeout=10.0,
            selftest=False,
        ),
        quiet=True,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("zone", "lat", "lon", "reason"),
    [
        ("Z99", 29.3066, 120.0764, "not a patrol zone"),
        ("Z13", 29.3066, 120.0744, "lies in zone Z12"),  # about 700 m west of Z13's edge
        ("Z12", 29.40, 120.30, "outside every zone"),
    ],
)
def test_a_wrong_zone_or_location_is_refused_before_the_token_is_used(
    field_env: FieldEnv, tech: Coordinator, tmp_path: Path, zone: str, lat: float, lon: float,
    reason: str,
) -> None:  # fmt: skip
    token = tech.enrolment_token()["token"]
    res = _enrol(field_env, token, tmp_path / "a", zone, lat, lon)
    assert not res["ok"]
    assert reason in str(res["steps"])
    # The same token still enrols the board once the technician fixes the zone.
    ok = _enrol(field_env, token, tmp_path / "b", "Z12", 29.3066, 120.0764)
    assert ok["ok"], ok["steps"]


def test_a_border_street_camera_may_belong_to_either_side(
    field_env: FieldEnv, tech: Coordinator, tmp_path: Path
) -> None:
    # 50 m east of the shared border (lon 120.0814) but registered to the western zone.
    token = tech.enrolment_token()["token"]
    res = _enrol(field_env, token, tmp_path, "Z12", 29.3066, 120.08191)
    assert res["ok"], res["steps"]
