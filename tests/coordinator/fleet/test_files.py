"""Fleet files (CSV / GeoJSON) and the load-fleet command."""

from __future__ import annotations

import json

import pytest

from coordinator.cli import main
from coordinator.fleet.files import FleetFileError, parse_csv, parse_geojson

CSV = (
    "id,owner_org,owner_type,lat,lon,heading,zone,profile,cert_fingerprint,cert_not_after\n"
    "cam-1,Yiwu PSB,government,29.30,120.07,90,Z01,pi5,ab12,2027-01-01T00:00:00Z\n"
    "cam-2,Futian Co,company,29.31,120.08,,Z02,jetson,,\n"
)


def test_csv_parses_rows_and_blank_cells_are_missing():
    devs = parse_csv(CSV)
    assert [d.id for d in devs] == ["cam-1", "cam-2"]
    assert devs[1].heading is None and devs[0].cert_not_after.year == 2027


@pytest.mark.parametrize(
    ("what", "text", "needle"),
    [
        (
            "owner type outside the three kinds",
            CSV.replace("company", "shop"),
            "fleet.csv:3: owner_type",
        ),
        ("latitude out of range", CSV.replace("29.31", "99.31"), "fleet.csv:3: lat"),
        ("duplicate id", CSV.replace("cam-2", "cam-1"), "duplicate device id"),
        ("no header row", "cam-1,x\n", "header row"),
    ],
)
def test_bad_csv_rows_are_reported_with_line(what, text, needle):
    """Tried: {what}."""
    with pytest.raises(FleetFileError, match=needle):
        parse_csv(text)


def test_geojson_points():
    doc = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "geometry": {"type": "Point", "coordinates": [120.07, 29.30]},
                "properties": {
                    "id": "cam-g",
                    "owner_org": "Community 5",
                    "owner_type": "community",
                },
            },
            {
                "type": "Feature",
                "geometry": {"type": "LineString", "coordinates": [[0, 0], [1, 1]]},
                "properties": {"id": "cam-bad"},
            },
        ],
    }
    with pytest.raises(FleetFileError, match="feature 1"):
        parse_geojson(json.dumps(doc))
    doc["features"].pop()
    (d,) = parse_geojson(json.dumps(doc))
    assert (d.id, d.lat, d.lon, d.owner_type) == ("cam-g", 29.30, 120.07, "community")
    with pytest.raises(FleetFileError, match="malformed JSON"):
        parse_geojson("{nope")


def test_load_fleet_command(tmp_path, capsys, monkeypatch):
    f = tmp_path / "fleet.csv"
    f.write_text(CSV)
    cfg = tmp_path / "s.yaml"
    cfg.write_text(
        f"data_dir: {tmp_path / 'd'}\ndev_mode: true\nsecret_key: {'k' * 40}\ndata_key: {'d' * 40}\n"
    )
    assert main(["load-fleet", str(f), "--settings", str(cfg), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"loaded": 2, "file": str(f)}
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.replace("company", "shop"))
    assert main(["load-fleet", str(bad), "--settings", str(cfg)]) != 0
    assert "owner_type" in capsys.readouterr().err
