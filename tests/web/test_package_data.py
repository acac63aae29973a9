"""Every file the dashboard serves ships in the wheel: each one under
``coordinator/web/static`` matches a package-data pattern of ``pyproject.toml``."""

from __future__ import annotations

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
WEB = ROOT / "coordinator" / "web"


def test_every_static_file_is_package_data() -> None:
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    patterns = cfg["tool"]["setuptools"]["package-data"]["coordinator.web"]
    files = [p for p in (WEB / "static").rglob("*") if p.is_file()]
    assert files
    missing = [
        str(p.relative_to(WEB))
        for p in files
        if not any(p.relative_to(WEB).match(g) for g in patterns)
    ]
    assert not missing, f"not shipped in the wheel: {missing}"
