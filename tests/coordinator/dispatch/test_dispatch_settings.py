"""Dispatch's timing and ranking come from the coordinator's settings (``dispatch:``)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from coordinator.bootstrap import open_services
from coordinator.settings import Settings, SettingsError, load_settings


def _settings_file(tmp_path: Path, dispatch: dict) -> Path:
    f = tmp_path / "coordinator.yaml"
    f.write_text(
        yaml.safe_dump(
            {
                "data_dir": str(tmp_path / "coord"),
                "dev_mode": True,
                "secret_key": "s" * 40,
                "data_key": "d" * 40,
                "dispatch": dispatch,
            }
        )
    )
    return f


def test_dispatch_settings_reach_the_dispatch_service(tmp_path: Path):
    settings = load_settings(_settings_file(tmp_path, {"ack_timeout_s": 45, "top_k": 3}), {})
    services = open_services(settings)
    try:
        assert services.dispatch.settings.ack_timeout_s == 45
        assert services.dispatch.settings.top_k == 3
        assert services.dispatch.settings.tie_s == 15  # the rest keep their defaults
    finally:
        services.close()


@pytest.mark.parametrize(
    ("dispatch", "problem"),
    [
        ({"ack_timeout_s": 0}, "dispatch.ack_timeout_s"),
        ({"ack_timeout": 30}, "dispatch.ack_timeout"),
    ],
)
def test_bad_dispatch_settings_are_refused_with_the_field(tmp_path: Path, dispatch, problem):
    with pytest.raises(SettingsError, match=problem):
        load_settings(_settings_file(tmp_path, dispatch), {})


def test_every_dispatch_setting_is_described():
    fields = Settings.model_fields["dispatch"].annotation.model_fields  # type: ignore[union-attr]
    assert fields and all(f.description for f in fields.values())
