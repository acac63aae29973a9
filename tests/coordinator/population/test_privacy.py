"""Encryption at rest, key rotation, retention, statistics, and no forbidden fields."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from coordinator.population import PopulationService
from coordinator.population.common import Ctx
from coordinator.population.crypto import DataKey, Keyring, UnknownKeyError
from coordinator.population.rotation import pending, rotate
from coordinator.population.stats import MIN_CELL
from tests.harness.population import officer, person_data

FORBIDDEN = ("ethnic", "religio", "race", "faith", "face", "biometric", "fingerprint", "minzu")


def test_round_trip_tamper_and_unknown_key():
    k = DataKey("a" * 40)
    blob = k.encrypt("prc_id", "11010519491231002X")
    assert k.decrypt("prc_id", blob) == "11010519491231002X"
    assert blob[:4] == k.kid
    with pytest.raises(InvalidTag):
        k.decrypt("passport", blob)  # bound to the document type
    with pytest.raises(InvalidTag):
        k.decrypt("prc_id", blob[:-1] + bytes([blob[-1] ^ 1]))
    with pytest.raises(UnknownKeyError, match="not configured"):
        Keyring("b" * 40).decrypt("prc_id", blob)
    assert k.lookup_hash("prc_id", "X1") == DataKey("a" * 40).lookup_hash("prc_id", "X1")
    assert k.lookup_hash("prc_id", "X1") != DataKey("b" * 40).lookup_hash("prc_id", "X1")


def test_database_file_holds_no_plain_id_number(pop, services):
    d = person_data(50)
    pop.records.create_person("setup", d, "t")
    path = services.settings.db_path
    wal = path.with_name(path.name + "-wal")
    raw = path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")
    assert d["id_number"].encode() not in raw
    assert d["name"].encode() in raw  # sanity: the file does hold the record


def test_key_rotation_re_encrypts_and_re_hashes(pop, services):
    d = person_data(51)
    pid = pop.records.create_person("setup", d, "t")["person"]["id"]
    old = services.settings.data_key
    new_ring = Keyring("n" * 40, [old])
    ctx = Ctx(services.db, new_ring, services.audit)
    assert pending(ctx) == 1
    assert rotate(ctx) == 1 and pending(ctx) == 0
    after = services.settings.model_copy(update={"data_key": "n" * 40})
    rotated = PopulationService(services.db, services.audit, after)
    found = rotated.records.lookup_id("setup", "prc_id", d["id_number"], "t")["results"]
    assert [r["id"] for r in found] == [pid]
    full = rotated.records.get_person("setup", pid, "t", reveal=True)
    assert full["id_number"] == d["id_number"]
    # the old key alone can no longer read it
    with pytest.raises(UnknownKeyError):
        pop.records.get_person("setup", pid, "t", reveal=True)


def test_retention_anonymises_records_closed_too_long(pop, clock):
    p = officer()
    pid = pop.records.create_person(p, person_data(52), "t")["person"]["id"]
    keep = pop.records.create_person(p, person_data(53), "t")["person"]["id"]
    for who in (pid, keep):
        reg = pop.records.register(p, {"person_id": who, "kind": "own", "address": "江东街道 9号",
                                       "zone": "Z01", "status": "registered"}, "t")  # fmt: skip
        if who == pid:
            pop.records.transition(p, reg["id"], "moved_out", None, "t")
    assert pop.retention.run_once()["persons"] == 0  # just closed
    clock.t += pop.retention.retention_s + 1
    assert pop.retention.run_once() == {"persons": 1, "requests": 0}
    row = pop.ctx.db.query("select * from pop_persons where id = ?", [pid])[0]
    assert row["status"] == "anonymised" and row["id_enc"] is None and row["id_hash"] is None
    assert row["phone"] is None and len(row["dob"]) == 4 and row["zone"] == "Z01"
    assert pop.search.persons(p, "t", name=person_data(52)["name"]) == []
    assert pop.search.persons(p, "t", address="江东街道")[0]["id"] == keep
    assert pop.ctx.audit.search(action="erase", subject_id=str(pid))[0]["purpose"] == "retention"


def test_erasure_on_request_is_audited_with_reason(api, officer_tokens, pop):
    h = officer_tokens["officer-a"]
    pid = api.post("/api/population/persons", headers=h, json=person_data(54)).json()["person"][
        "id"
    ]
    r = api.post(
        f"/api/population/persons/{pid}/erase", headers=h, json={"reason": "court order 2026/88"}
    )
    assert r.status_code == 200
    assert api.get(f"/api/population/persons/{pid}", headers=h).json()["name"] == "[anonymised]"
    assert "court order" in pop.ctx.audit.search(action="erase", subject_id=str(pid))[0]["detail"]


def test_stats_are_aggregates_with_small_cells_hidden(api, officer_tokens, pop):
    for i in range(7):
        pop.records.create_person("setup", person_data(60 + i), "t")
    pop.records.create_person("setup", person_data(70, zone="Z09"), "t")
    s = api.get("/api/population/stats", headers=officer_tokens["officer-a"]).json()
    assert s["zone"] == {"Z01": 7, "Z09": f"<{MIN_CELL}"}
    assert s["origin"] == {"Jiangxi": 8} and s["totals"]["persons"] == 8
    r = api.get(
        "/api/population/stats", headers=officer_tokens["officer-a"], params={"by": "ethnicity"}
    )
    assert r.status_code == 422


def test_no_forbidden_field_anywhere(services):
    cols = services.db.query(
        "select m.name t, p.name c from sqlite_master m join pragma_table_info(m.name) p "
        "where m.type = 'table' and m.name like 'pop_%'"
    )
    assert len(cols) > 50
    bad = [f"{r['t']}.{r['c']}" for r in cols if any(w in r["c"].lower() for w in FORBIDDEN)]
    assert bad == []


def test_trigger_counters_match_a_full_count_after_every_kind_of_change(pop, tmp_path):
    """Statistics read trigger-kept counters; tried: a bulk import with in-file duplicates,
    merges, an undone merge, an erasure, a zone move and registration transitions. After
    each, the counters must equal a GROUP BY over the records themselves."""
    from devtools.population_data import write_csv

    def full_count() -> dict[tuple[str, str], int]:
        q = pop.ctx.db.query
        out: dict[tuple[str, str], int] = {}
        for d in ("zone", "origin", "nationality", "hukou"):
            for r in q(f"select coalesce({d}, 'unknown') k, count(*) n from pop_persons "
                       "where status = 'active' group by 1"):  # fmt: skip
                out[(d, r["k"])] = r["n"]
        for r in q("select zone || '|' || coalesce(hukou, 'unknown') k, count(*) n "
                   "from pop_persons where status = 'active' group by 1"):  # fmt: skip
            out[("zone_hukou", r["k"])] = r["n"]
        for r in q("select status k, count(*) n from pop_registrations group by 1"):
            out[("registration_status", r["k"])] = r["n"]
        return out

    def counters() -> dict[tuple[str, str], int]:
        rows = pop.ctx.db.query("select dim, k, n from pop_counts where n != 0")
        return {(r["dim"], r["k"]): r["n"] for r in rows}

    pop.importer.run("cli:test", write_csv(tmp_path / "p.csv", 3000, seed=21))
    assert (
        counters() == full_count()
        and sum(n for (d, _), n in counters().items() if d == "zone")
        == pop.ctx.db.query("select count(*) n from pop_persons")[0]["n"]
    )
    boss = officer("reviewer", tuple(f"Z{i:02d}" for i in range(1, 15)))
    cands = pop.ctx.db.query("select id from pop_dup_candidates where status = 'open' limit 2")
    assert len(cands) == 2
    merges = [pop.duplicates.merge(boss, c["id"], None, "t") for c in cands]
    assert counters() == full_count()
    pop.duplicates.undo(boss, merges[0]["merge_id"], "t")
    assert counters() == full_count()
    pop.retention.erase(boss, 17, "court order 2026/17", "t")
    assert counters() == full_count()
    reg = pop.ctx.db.query("select id from pop_registrations where status = 'registered' "
                           "and person_id != 17 limit 1")[0]["id"]  # fmt: skip
    pop.records.transition(boss, reg, "moved_out", "left town", "t")
    pop.records.transition(boss, reg, "archived", None, "t")
    assert counters() == full_count()
    # the counter paths (not triggers) for single inserts: a new person, a new registration
    new = pop.records.create_person(boss, person_data(90, zone="Z07"), "t")["person"]
    pop.records.register(boss, {"person_id": new["id"], "kind": "own", "zone": "Z07",
                                "address": "宾王路 90号", "status": "draft"}, "t")  # fmt: skip
    assert counters() == full_count()
    s = pop.stats.summary(boss)
    assert (
        s["totals"]["persons"]
        == pop.ctx.db.query("select count(*) n from pop_persons where status = 'active'")[0]["n"]
    )
    assert s["registration_status"]["archived"] == f"<{MIN_CELL}"


def test_counter_migration_backfills_an_existing_database(tmp_path):
    """A deployment upgraded with records already in it: migration 003 counts them."""
    import sqlite_utils

    from coordinator.population import schema

    db = sqlite_utils.Database(tmp_path / "old.db")
    schema.m001_population(db)
    schema.m002_address_index_text(db)
    now = 1.0
    for i, (zone, origin, status) in enumerate(
        [("Z01", "Jiangxi", "active"), ("Z01", "Anhui", "active"), ("Z02", None, "active"),
         ("Z02", "Anhui", "merged")], start=1):  # fmt: skip
        db.execute(
            "insert into pop_persons (id, name, zone, origin, nationality, status, created_at, "
            "updated_at) values (?, 'x', ?, ?, 'CN', ?, ?, ?)",
            [i, zone, origin, status, now, now],
        )
    db.execute(
        "insert into pop_registrations (person_id, kind, address, zone, valid_from, status, "
        "created_at, updated_at) values (1, 'own', 'a', 'Z01', '2025-01-01', 'registered', 1, 1)"
    )
    schema.m003_aggregate_counts(db)
    got = {(r[0], r[1]): r[2] for r in db.execute("select dim, k, n from pop_counts")}
    assert got == {("zone", "Z01"): 2, ("zone", "Z02"): 1, ("origin", "Jiangxi"): 1,
                   ("origin", "Anhui"): 1, ("origin", "unknown"): 1, ("nationality", "CN"): 3,
                   ("registration_status", "registered"): 1}  # fmt: skip
