"""Bulk CSV import: bad rows rejected with reasons, broken encodings, mixed line endings,
resume after interruption, the CLI as a real subprocess; audited export."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

import pytest

from coordinator.population.importer import COLUMNS, ImportFileError, physical_lines
from devtools.population_data import population, write_csv
from tests.harness.population import PURPOSE, officer

P = "/api/population"


def _row(rec: dict) -> bytes:
    import io

    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([rec.get(c, "") for c in COLUMNS])
    return buf.getvalue().encode()


def test_physical_lines_split_any_line_ending():
    import io

    data = b"a\r\nb\nc\rd\r\n\re"
    assert list(physical_lines(io.BytesIO(data))) == [b"a", b"b", b"c", b"d", b"", b"e"]


def test_bad_rows_are_rejected_with_reasons_and_nothing_is_lost(pop, tmp_path):
    good = list(population(6, seed=3))
    bad_id = {
        **good[0],
        "id_number": good[0]["id_number"][:-1] + "0" if good[0]["id_number"][-1] != "0" else "1",
    }
    lines = [
        ",".join(COLUMNS).encode(),
        _row(good[1]),
        _row({**good[2], "name": "李\xff"}).replace(
            "李ÿ".encode(), b"\xe6\x9d\x8e\xff"
        ),  # broken UTF-8
        _row(bad_id),
        _row({**good[3], "address": "x" * 1200}),  # oversized field
        _row({**good[4], "valid_from": "2025-02-30"}),  # impossible date
        _row({**good[5], "kind": "rented", "house_id": "77"}),  # unregistered house
        b"only,three,fields",
        _row(good[0]),
    ]
    # mixed line endings: CRLF, LF and a lone CR
    data = (
        lines[0] + b"\r\n" + lines[1] + b"\n" + lines[2] + b"\r" + b"\r\n".join(lines[3:]) + b"\n"
    )
    f = tmp_path / "mixed.csv"
    f.write_bytes(b"\xef\xbb\xbf" + data)
    errors_file = tmp_path / "rejected.csv"
    s = pop.importer.run("cli:test", f, errors_path=errors_file)
    assert (s["imported"], s["rejected"], s["records"]) == (2, 6, 8)
    assert errors_file.stat().st_mode & 0o777 == 0o600
    with open(errors_file, encoding="utf-8") as fh:
        errs = list(csv.DictReader(fh))
    reasons = [e["reason"] for e in errs]
    assert "not valid utf-8" in reasons[0] and "line 3" in reasons[0]
    assert "check digit" in reasons[1]
    assert "oversized" in reasons[2]
    assert "impossible date" in reasons[3]
    assert "not a registered rented house" in reasons[4]
    assert "has 3 fields" in reasons[5]
    assert [int(e["line"]) for e in errs] == [3, 4, 5, 6, 7, 8]
    # every data row is either imported or in the error file
    assert s["imported"] + len(errs) == len(lines) - 1


@pytest.mark.parametrize(
    "content,problem",
    [(b"", "empty"), (b"name,colour\n", "unknown column"), (b"name,zone\n", "missing column")],
)
def test_bad_files_are_refused_whole(pop, tmp_path, content, problem):
    f = tmp_path / "bad.csv"
    f.write_bytes(content)
    with pytest.raises(ImportFileError, match=problem):
        pop.importer.run("cli:test", f)


def test_import_resumes_where_it_stopped(pop, tmp_path):
    f = write_csv(tmp_path / "pop.csv", 2500, seed=11)
    first = pop.importer.run("cli:test", f, stop_after=1200)  # interrupted after a commit
    assert first["status"] == "running" and first["records"] == 1200
    second = pop.importer.run("cli:test", f)
    assert second["resumed"] and second["status"] == "done" and second["records"] == 2500
    n = pop.ctx.db.query("select count(*) n from pop_persons")[0]["n"]
    assert n == second["imported"] == 2500 - second["rejected"]
    again = pop.importer.run("cli:test", f)  # a finished file is not imported twice
    assert again["imported"] == second["imported"]
    assert pop.ctx.db.query("select count(*) n from pop_persons")[0]["n"] == n
    # the generator's deliberate re-registrations were found
    assert pop.ctx.db.query("select count(*) n from pop_dup_candidates")[0]["n"] > 0


def test_cli_import_subprocess(tmp_path):
    f = write_csv(tmp_path / "demo.csv", 300, seed=5)
    env = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(tmp_path / "d"),
           "CITYWATCH_SECRET_KEY": "s" * 40, "CITYWATCH_DATA_KEY": "k" * 40}  # fmt: skip
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import", str(f),
                        "--json"], env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)  # a repeated document is reported, not created
    assert out["imported"] + out["existing"] == 300 and out["imported"] >= 298
    r = subprocess.run([sys.executable, "-m", "coordinator.cli", "population-import",
                        str(tmp_path / "nope.csv")], env=env, capture_output=True, text=True,
                       timeout=120)  # fmt: skip
    assert r.returncode == 2 and "no such file" in r.stderr


def test_api_import_rejects_rows_outside_the_officers_zone(api, officer_tokens):
    recs = list(population(4, seed=9, zones=["Z01"]))
    recs[3]["zone"] = "Z02"
    body = ",".join(COLUMNS).encode() + b"\n" + b"\n".join(_row(r) for r in recs) + b"\n"
    h = {**officer_tokens["officer-a"], "Content-Type": "text/csv"}
    r = api.post(f"{P}/import", headers=h, content=body)
    assert r.status_code == 200, r.text
    assert (
        r.json()["imported"] == 3 and "outside your jurisdiction" in r.json()["errors"][0]["reason"]
    )


def test_export_is_masked_role_gated_and_audited_per_person(api, officer_tokens, tokens, pop):
    from coordinator.identity.auth import Role
    from tests.harness.api import bearer

    for rec in population(5, seed=2, zones=["Z01"]):
        pop.records.create_person("setup", {k: rec[k] for k in ("name", "id_type", "id_number",
                                                              "dob", "sex", "nationality", "zone")}, "t")  # fmt: skip
    h = officer_tokens["officer-a"]
    r = api.get(f"{P}/export", headers=h)
    rows = list(csv.DictReader(r.text.splitlines()))
    assert (
        len(rows) == 5 and all("*" in x["id_masked"] for x in rows) and "id_number" not in rows[0]
    )
    assert len(pop.ctx.audit.search(actor="officer-a", action="export")) == 5
    full = list(csv.DictReader(api.get(f"{P}/export", headers=h,
                                       params={"include_id_numbers": True}).text.splitlines()))  # fmt: skip
    assert all(len(x["id_number"]) >= 8 for x in full)
    assert len(pop.ctx.audit.search(actor="officer-a", action="export_with_ids")) == 5
    for role in (Role.ADMIN, Role.OPERATOR, Role.FRAUD_INVESTIGATOR):
        assert (
            api.get(f"{P}/export", headers={**bearer(tokens[role]), **PURPOSE}).status_code == 403
        )
    assert officer().zones == frozenset({"Z01"})


def test_key_rotation_procedure_with_the_cli(tmp_path):
    """The documented procedure: generate, import under key A, switch to key B, rotate."""
    cli = [sys.executable, "-m", "coordinator.cli"]
    base = {**os.environ, "CITYWATCH_DEV_MODE": "true", "CITYWATCH_DATA_DIR": str(tmp_path / "d"),
            "CITYWATCH_SECRET_KEY": "s" * 40}  # fmt: skip
    old_key, new_key = "A" * 40, "B" * 40
    f = tmp_path / "gen.csv"
    gen = [sys.executable, "-m", "devtools.population_data"]
    r = subprocess.run([*gen, str(f), "--count", "50"], env=base,
                       capture_output=True, text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0 and f.exists(), r.stderr
    r = subprocess.run([*cli, "population-import", str(f), "--json"],
                       env={**base, "CITYWATCH_DATA_KEY": old_key}, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    (tmp_path / "old.key").write_text(old_key + "\n")
    r = subprocess.run([*cli, "population-rotate-key", "--old-key-file", str(tmp_path / "old.key")],
                       env={**base, "CITYWATCH_DATA_KEY": new_key}, capture_output=True,
                       text=True, timeout=120)  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == {"pending_before": 50, "rotated": 50, "pending_after": 0}
    # under the new key alone, a lookup by the first generated number finds the person
    from coordinator.bootstrap import open_services
    from coordinator.population import PopulationService
    from coordinator.settings import Settings

    with f.open(encoding="utf-8") as fh:
        first = next(csv.DictReader(fh))
    s = open_services(Settings.for_dev(tmp_path / "d", secret_key="s" * 40, data_key=new_key))
    try:
        pop: PopulationService = s.population
        hit = pop.records.lookup_id("test", first["id_type"], first["id_number"], "t")["results"]
        assert len(hit) >= 1
        assert pop.records.get_person("test", hit[0]["id"], "t", reveal=True)["id_number"]
    finally:
        s.close()
