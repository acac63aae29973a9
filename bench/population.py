"""Population records at scale: import, ID lookup, name search, duplicate check, size.

Generates a synthetic population (by default Yiwu's 2,300,000 persons; ``--persons N`` for
a quicker, smaller run), imports it through the real importer (validation, AES-GCM,
keyed hash, FTS5 trigram index, duplicate check, audit), then measures each operation
through the real service (audit entry included) against the plain approach in the
same database and run: no index (``NOT INDEXED``) for lookups and duplicate blocking,
``LIKE '%…%'`` scans for names, and a plain-text table without indexes for import and size.
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, publish, table  # noqa: E402
from bench.population_city import run_dir, seeded  # noqa: E402
from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.population.common import zone_clause  # noqa: E402
from coordinator.population.duplicates import find_candidates  # noqa: E402
from coordinator.population.importer import COLUMNS  # noqa: E402
from coordinator.population.records import person_row, validate_person  # noqa: E402
from devtools.population_data import person  # noqa: E402
from tests.harness.population import officer  # noqa: E402

FULL = 2_300_000


def _ms(samples: list[float], p: float) -> float:
    return percentile(samples, p) * 1000


def _time(fn, items) -> list[float]:  # noqa: ANN001
    out = []
    for it in items:
        t0 = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t0)
    return out


def plain_import(csv_path: Path, db_path: Path) -> tuple[float, int]:
    """Baseline: the same rows as plain text into one table without any index."""
    db = sqlite3.connect(db_path)
    db.execute("pragma journal_mode=wal")
    db.execute(f"create table persons ({', '.join(c + ' text' for c in COLUMNS)})")
    t0 = time.perf_counter()
    with csv_path.open(newline="", encoding="utf-8") as f:
        r = csv.reader(f)
        next(r)
        batch = []
        for row in r:
            batch.append(row)
            if len(batch) == 1000:
                db.executemany(
                    f"insert into persons values ({','.join('?' * len(COLUMNS))})", batch
                )
                db.commit()
                batch = []
        if batch:
            db.executemany(f"insert into persons values ({','.join('?' * len(COLUMNS))})", batch)
            db.commit()
    took = time.perf_counter() - t0
    db.execute("pragma wal_checkpoint(truncate)")
    db.close()
    return took, db_path.stat().st_size


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument(
        "--persons", type=int, default=FULL, help=f"population size (default {FULL:,}: Yiwu)"
    )
    ap.add_argument("--samples", type=int, default=1000, help="timed lookups/searches/checks")
    ap.add_argument("--baseline-samples", type=int, default=40, help="timed baseline scans")
    args = ap.parse_args()
    n = args.persons
    rng = random.Random(42)
    load_start = os.getloadavg()[0]
    city = seeded(n, run_dir())  # built once per bench run, shared with the workspace bench
    with tempfile.TemporaryDirectory(prefix="cw-pop-bench-") as tmp:
        d = Path(tmp)
        csv_path = city["csv"]
        plain_s, plain_size = plain_import(csv_path, d / "plain.db")
        services = open_services(city["settings"])
        try:
            pop = services.population
            import_s = city["built"]["import_s"]
            summary = {"rejected": city["built"]["rejected"]}
            imported = city["built"]["imported"]
            db = services.db
            c = sqlite3.connect(services.settings.db_path)  # writer is idle: fold the WAL in
            c.execute("pragma wal_checkpoint(truncate)")
            c.close()
            size = services.settings.db_path.stat().st_size
            audit_size = db.query("select sum(length(detail)) + count(*) * 80 n from audit_log")[0][
                "n"
            ]
            # samples ---------------------------------------------------------------------------
            # a random sample of the imported records, read in one streaming pass
            picks = sorted(rng.randrange(n) for _ in range(args.samples))
            recs = []
            with csv_path.open(newline="", encoding="utf-8") as f:
                it = iter(picks)
                want = next(it, None)
                for i, rec in enumerate(csv.DictReader(f)):
                    while want == i:
                        recs.append(rec)
                        want = next(it, None)
                    if want is None:
                        break
            rng.shuffle(recs)
            sample = recs
            zones = ("Z01", "Z02")
            off = officer("bench-officer", zones)
            # ID lookup
            id_ours = _time(
                lambda r: pop.records.lookup_id(off, r["id_type"], r["id_number"], "bench"), sample
            )
            hashes = [pop.ctx.keyring.lookup_hash(r["id_type"], r["id_number"]) for r in sample]
            id_query = _time(
                lambda h: db.query("select * from pop_persons where id_hash = ?", [h]), hashes
            )
            id_base = _time(lambda h: db.query("select id from pop_persons not indexed where id_hash = ?", [h]),
                            hashes[: args.baseline_samples])  # fmt: skip
            # name search: whole names, 2-character names/prefixes and pinyin spellings
            names = []
            for r in sample:
                k = rng.random()
                if k < 0.5:
                    names.append(r["name"])
                elif k < 0.75:
                    names.append(r["name"][:2])
                else:
                    names.append(pop.ctx.db.query("select name_latin from pop_persons where id = ?",
                                                  [rng.randint(1, imported)])[0]["name_latin"] or r["name"])  # fmt: skip
            s_ours = _time(lambda q: pop.search.persons(off, "bench", name=q), names)
            zc, zp = zone_clause(set(zones))
            s_base = _time(lambda q: db.query(
                f"select id from pop_persons where status = 'active' and {zc} and "
                "(name like ? or name_latin like ?) limit 50", [*zp, f"%{q}%", f"%{q}%"]),
                names[: args.baseline_samples])  # fmt: skip
            # duplicate check for a new registration (not stored)
            new_rows, again = [], []
            for _ in range(args.samples):
                again.append(rng.random() >= 0.8)  # a re-registration of someone imported
                rec = dict(rng.choice(recs)) if again[-1] else person(rng, list(zones))
                p = validate_person({k: rec.get(k) or None for k in COLUMNS[:10]}
                                    | {"hukou_place": rec.get("hukou_place") or None})  # fmt: skip
                new_rows.append(person_row(pop.ctx, p, time.time()))
            d_ours = _time(lambda row: pop.duplicates.check(off, row, "bench"), new_rows)
            reader = db.read()

            def dup_plain(row):  # noqa: ANN001, ANN202
                # same logic without the blocking indexes: every block is a full scan
                reader.execute(
                    "select id from pop_persons not indexed where id_hash = ?", [row["id_hash"]]
                ).fetchall()
                reader.execute(
                    "select id, name from pop_persons not indexed where dob = ?", [row["dob"]]
                ).fetchall()
                reader.execute(
                    "select id, name from pop_persons not indexed where match_key = ?",
                    [row["match_key"]],
                ).fetchall()

            d_base = _time(dup_plain, new_rows[: args.baseline_samples])
            # statistics: running counters vs grouping the records themselves
            st_ours = _time(lambda _: pop.stats.summary(off), range(20))

            def stats_plain(_):  # noqa: ANN001, ANN202
                for col in ("zone", "origin", "nationality"):
                    db.query(f"select {col} k, count(*) n from pop_persons "
                             "where status = 'active' group by k")  # fmt: skip
                db.query("select status k, count(*) n from pop_registrations group by k")

            st_base = _time(stats_plain, range(3))
            flagged = [bool(find_candidates(reader, -1, row)) for row in new_rows]
            n_again = sum(again)
            found_again = sum(f for f, a in zip(flagged, again, strict=True) if a)
            found_new = sum(f for f, a in zip(flagged, again, strict=True) if not a)
        finally:
            services.close()
    scale = FULL / n
    load_end = os.getloadavg()[0]
    rows = [
        [
            "import (rows/s)",
            imported / import_s,
            n / plain_s,
            "plain: text rows, no index/crypto/dedup",
        ],
        ["ID lookup p50 (ms)", _ms(id_ours, 50), _ms(id_base, 50), "plain: same table NOT INDEXED"],
        ["ID lookup p99 (ms)", _ms(id_ours, 99), _ms(id_base, 99), "target < 10 ms"],
        [
            "ID lookup p99, query only (ms)",
            _ms(id_query, 99),
            _ms(id_base, 99),
            "without validation and the audit commit",
        ],
        ["name search p50 (ms)", _ms(s_ours, 50), _ms(s_base, 50), "plain: LIKE '%q%' scan"],
        ["name search p99 (ms)", _ms(s_ours, 99), _ms(s_base, 99), "target < 100 ms"],
        ["duplicate check p95 (ms)", _ms(d_ours, 95), _ms(d_base, 95), "target <= 200 ms"],
        [
            "statistics, all dimensions p50 (ms)",
            _ms(st_ours, 50),
            _ms(st_base, 50),
            "ours: running counters; plain: GROUP BY over the records",
        ],
        [
            "DB size per person (B)",
            size / imported,
            plain_size / n,
            "ours incl. indexes, FTS, audit",
        ],
    ]
    md = table(["metric", "CityWatch", "plain approach", "note"], rows)
    scale_note = (
        f"**Measured at {n:,} persons**, the issue's full scale. "
        if n >= FULL
        else f"**Measured at {n:,} persons only** (not the issue's {FULL:,}, which is the "
        "default of `make bench`). "
    )
    md += (
        f"\n\n{scale_note}"
        f"Import took {import_s:.0f} s ({summary['rejected']} rows rejected, "
        f"{city['built']['group_commits']:,} group commits). Each CityWatch lookup, search and check goes "
        "through the service and writes its audit entry; the plain approach runs the bare query. "
        f"Review queue: of {len(new_rows):,} sampled new registrations, {n_again} re-register "
        f"someone already imported, and {found_again} of them were flagged ({found_again / max(n_again, 1):.0%}); "
        f"{found_new} of the {len(new_rows) - n_again} genuinely new people were flagged too "
        f"({found_new / max(len(new_rows) - n_again, 1):.1%}: same birth date and a similar name "
        'among millions; an officer clears them as "not duplicate"). '
        "Officer jurisdiction: 2 of 14 zones. "
        f"Machine load average {load_start:.1f} at start, {load_end:.1f} at end (2 cores shared "
        "with other work: absolute rates are pessimistic; the ratios are the point)."
    )
    if n < FULL:
        md += (
            f"\n\n**Extrapolated to {FULL:,} (not measured):** import ≈ {FULL / (imported / import_s) / 60:.0f} min "
            f"at the measured rate; DB ≈ {size / imported * FULL / 1e9:.1f} GB; the plain full scans grow "
            f"linearly (ID lookup p50 ≈ {_ms(id_base, 50) * scale:.0f} ms, name search p50 ≈ "
            f"{_ms(s_base, 50) * scale:.0f} ms), while indexed lookups and blocked duplicate checks grow "
            "with log n and the block sizes (~linear in people per birth date); FTS posting lists for "
            "common trigrams grow linearly, so name-search p99 is the figure to re-measure at full scale."
        )
    data = {"persons": n, "imported": imported, "import_s": import_s, "db_bytes": size,
            "review": {"sampled": len(new_rows), "re_registrations": n_again,
                       "re_registrations_flagged": found_again, "new_flagged": found_new},
            "plain_db_bytes": plain_size, "audit_bytes_est": audit_size,
            "metrics": {r[0]: {"ours": r[1], "plain": r[2]} for r in rows}}  # fmt: skip
    publish("population", f"Population records ({n:,} persons)", md, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
