"""``coordinator geo-check`` / ``geo-load`` on real files and a real SQLite database."""

from __future__ import annotations

import json

from coordinator.cli import main
from coordinator.geo.service import GeoService
from coordinator.platform.db import Database


def write(tmp_path, name, data):
    p = tmp_path / name
    p.write_text(data if isinstance(data, str) else json.dumps(data))
    return str(p)


def test_geo_check_accepts_good_files(tmp_path, city, capsys):
    z, r = write(tmp_path, "z.geojson", city.zones), write(tmp_path, "r.geojson", city.roads)
    assert main(["geo-check", "--zones", z, "--roads", r, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["zones"]["patrol_zones"] == 4 and out["roads"]["ok"] is True


def test_geo_check_names_the_problems_and_exits_1(tmp_path, capsys):
    bowtie = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": {"id": "Z1"},
                "geometry": {
                    "type": "Polygon",
                    "coordinates": [
                        [
                            [120.0, 29.0],
                            [120.01, 29.01],
                            [120.01, 29.0],
                            [120.0, 29.01],
                            [120.0, 29.0],
                        ]
                    ],
                },
            }
        ],
    }
    z = write(tmp_path, "z.geojson", bowtie)
    r = write(tmp_path, "r.geojson", '{"type": "FeatureCollection",\n "features": [,]}')
    assert main(["geo-check", "--zones", z, "--roads", r]) == 1
    err = capsys.readouterr().err
    assert "Self-intersection" in err and "r.geojson:2: not JSON" in err
    assert main(["geo-check"]) == 2


def test_geo_load_writes_the_layers(tmp_path, city, monkeypatch):
    monkeypatch.setenv("CITYWATCH_DEV_MODE", "true")
    monkeypatch.setenv("CITYWATCH_DATA_DIR", str(tmp_path / "data"))
    z = write(tmp_path, "z.geojson", city.zones)
    assert main(["geo-load", "--zones", z]) == 0
    with Database(tmp_path / "data" / "citywatch.db") as db:
        geo = GeoService(db)
        assert geo.zones is not None and geo.roads is None
