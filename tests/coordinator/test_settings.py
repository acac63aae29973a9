"""``database_url``: unset is the embedded SQLite file as before; a PostgreSQL URI is accepted
and checked, anything else refused with a message that says what to write; and a coordinator
configured for PostgreSQL refuses to start rather than quietly use the SQLite file."""

from __future__ import annotations

from pathlib import Path

import pytest

from coordinator.bootstrap import open_services
from coordinator.settings import Settings, SettingsError, load_settings


def test_unset_means_the_sqlite_file_in_the_data_folder(tmp_path: Path):
    settings = Settings.for_dev(tmp_path)
    assert settings.database_url is None
    assert settings.db_path == tmp_path / "citywatch.db"
    assert settings.database_problem() is None
    assert Settings.for_dev(tmp_path, database_url="  ").database_url is None


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://citywatch@db.internal:5432/citywatch",
        "postgres://citywatch@10.0.0.5/citywatch?sslmode=verify-full",
        "postgresql:///citywatch?host=/run/postgresql",
    ],
)
def test_a_postgresql_uri_is_accepted(tmp_path: Path, url: str):
    assert Settings.for_dev(tmp_path, database_url=url).database_url == url


@pytest.mark.parametrize(
    ("url", "says"),
    [
        ("sqlite:///var/citywatch.db", "must be a PostgreSQL URI"),
        ("mysql://db/citywatch", "must be a PostgreSQL URI"),
        ("db.internal:5432/citywatch", "must be a PostgreSQL URI"),
        ("postgresql://db.internal:port/citywatch", "port is not a number"),
        ("postgresql://db.internal:5432/", "must name a database"),
        ("postgresql:///citywatch", "must name a host"),
    ],
)
def test_anything_else_is_refused_with_what_to_write(tmp_path: Path, url: str, says: str):
    with pytest.raises(SettingsError, match=says):
        load_settings(
            None,
            {
                "CITYWATCH_DATA_DIR": str(tmp_path),
                "CITYWATCH_DEV_MODE": "true",
                "CITYWATCH_DATABASE_URL": url,
            },
        )


def test_the_url_can_come_from_a_file_keeping_its_password_out_of_the_settings(tmp_path: Path):
    secret = tmp_path / "database-url"
    secret.write_text("postgresql://citywatch:s3cret@db.internal/citywatch\n")
    env = {
        "CITYWATCH_DATA_DIR": str(tmp_path),
        "CITYWATCH_DEV_MODE": "true",
        "CITYWATCH_DATABASE_URL_FILE": str(secret),
    }
    assert load_settings(None, env).database_url == (
        "postgresql://citywatch:s3cret@db.internal/citywatch"
    )


def test_a_coordinator_set_for_postgresql_refuses_to_start_instead_of_using_sqlite(tmp_path):
    settings = Settings.for_dev(tmp_path, database_url="postgresql://db.internal/citywatch")
    with pytest.raises(SettingsError, match="cannot run on yet"):
        open_services(settings)
    assert not settings.db_path.exists()
