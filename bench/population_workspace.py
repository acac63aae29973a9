"""The population officer's workspace at city scale: form save p99, duplicate-review screen
load p99 and the bureau's statistics p50, each against the plain approach in the same run.

The seeded city (``--persons``, by default Yiwu's 2,300,000 generated from the bureau's
rates) is built once per bench run and shared with ``population.py`` (bench/population_city.py);
the saves run on a private copy of it.

- form save: registering a person at the counter through the service — validation,
  encryption, the one-document-one-person check by keyed hash, the duplicate check, the
  audit entry — against the plain approach: the same existence check with no index on the
  hash (``NOT INDEXED``) and a bare insert.
- duplicate-review screen: what the screen asks for (the open queue, the recently merged,
  the pending second-officer requests, one pair side by side) against the same lists read
  without the candidates' status index, one query per pair; both sides audit their three
  reads of personal data (the audit is not optional).
- statistics: persons by hukou, and by zone and hukou, from the running counters (with the
  small-cell protection) against ``GROUP BY`` over the records.
"""

from __future__ import annotations

import argparse
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
from bench.population_city import run_dir, scratch_copy, seeded  # noqa: E402
from coordinator.bootstrap import open_services  # noqa: E402
from coordinator.errors import Conflict  # noqa: E402
from coordinator.population.records import person_row, validate_person  # noqa: E402
from devtools.population_data import person  # noqa: E402
from tests.harness.population import officer  # noqa: E402

FULL = 2_300_000
ZONES = tuple(f"Z{i:02d}" for i in range(1, 15))


def _ms(samples: list[float], p: float) -> float:
    return percentile(samples, p) * 1000


def _time(fn, items) -> list[float]:  # noqa: ANN001
    out = []
    for it in items:
        t0 = time.perf_counter()
        fn(it)
        out.append(time.perf_counter() - t0)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--persons", type=int, default=FULL, help=f"city size (default {FULL:,})")
    ap.add_argument("--samples", type=int, default=500, help="timed saves / screen loads")
    args = ap.parse_args()
    n = args.persons
    rng = random.Random(7)
    city = seeded(n, run_dir())
    load_start = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="cw-pop-ws-") as tmp:
        services = open_services(scratch_copy(city, Path(tmp)))
        try:
            pop, db = services.population, services.db
            off = officer("bench-officer", ZONES)
            # form save: new persons, and one in ten a document already on record
            forms, existing_rows = (
                [],
                db.query(
                    "select id from pop_persons order by random() limit ?", [args.samples // 10]
                ),
            )
            for _ in range(args.samples):
                rec = person(rng, list(ZONES))
                forms.append({k: rec.get(k) or None for k in ("name", "id_type", "id_number", "dob",
                              "sex", "nationality", "origin", "phone", "zone", "hukou_place")})  # fmt: skip
            refused = [0]

            def save(data):  # noqa: ANN001, ANN202
                try:
                    pop.records.create_person(off, data, "bench")
                except Conflict:
                    refused[0] += 1

            save_ours = _time(save, forms)
            rows = [person_row(pop.ctx, validate_person(f), time.time()) for f in forms]
            # the plain approach: its own connection, the check without the hash's index, and
            # a bare insert into a table of the same columns (in the same database file)
            w = sqlite3.connect(services.settings.db_path, isolation_level=None)
            w.execute("pragma busy_timeout = 10000")
            cols = [c for c in rows[0] if c not in ("id",)]
            w.execute(f"create table plain_persons ({', '.join(cols)})")

            def save_plain(row):  # noqa: ANN001, ANN202
                w.execute("select id from pop_persons not indexed where id_hash = ?",
                          [row["id_hash"]]).fetchall()  # fmt: skip
                w.execute(f"insert into plain_persons values ({', '.join('?' * len(cols))})",
                          [row[c] for c in cols])  # fmt: skip

            save_base = _time(save_plain, rows[: max(20, args.samples // 25)])
            again = [pop.records._row(r["id"]) for r in existing_rows]
            doc_refused = 0
            for p in again:  # the same document at the counter: the existing record opens
                data = {"name": p["name"], "id_type": p["id_type"], "zone": p["zone"],
                        "id_number": pop.ctx.keyring.decrypt(p["id_type"], p["id_enc"]),
                        "nationality": p["nationality"], "dob": p["dob"]}  # fmt: skip
                try:
                    pop.records.create_person(off, data, "bench")
                except Conflict:
                    doc_refused += 1
            # duplicate-review screen
            cands = db.query("select count(*) n from pop_dup_candidates where status = 'open'")[0][
                "n"
            ]
            first = db.query("select id from pop_dup_candidates where status = 'open' limit 1")

            def screen(_):  # noqa: ANN001, ANN202
                pop.duplicates.queue(off, "bench", "open", 20)
                pop.duplicates.queue(off, "bench", "merged", 10)
                services.approvals.search(off, state=None)
                if first:
                    pop.duplicates.compare(off, first[0]["id"], "bench")

            screen_ours = _time(screen, range(args.samples // 5))

            def screen_plain(_):  # noqa: ANN001, ANN202
                for st, lim in (("open", 20), ("merged", 10)):
                    for c in db.query("select * from pop_dup_candidates not indexed where "
                                      "status = ? order by score desc limit ?", [st, lim]):  # fmt: skip
                        db.query("select * from pop_persons where id in (?, ?)",
                                 [c["person_id"], c["other_id"]])  # fmt: skip
                    services.audit.record(off, "review_queue", "person", None, "bench")
                db.query("select * from approval_requests not indexed where state = 'pending'")
                if first:  # the pair side by side: both records, read by id
                    c = db.query("select * from pop_dup_candidates where id = ?", [first[0]["id"]])
                    db.query("select * from pop_persons where id in (?, ?)",
                             [c[0]["person_id"], c[0]["other_id"]])  # fmt: skip
                    services.audit.record(off, "duplicate_compare", "person", None, "bench")

            screen_base = _time(screen_plain, range(max(5, args.samples // 50)))
            # statistics
            stats_ours = _time(lambda _: pop.stats.summary(off, ["hukou", "zone_hukou"]), range(30))

            def stats_plain(_):  # noqa: ANN001, ANN202
                db.query(
                    "select hukou, count(*) n from pop_persons where status = 'active' group by 1"
                )
                db.query("select zone, hukou, count(*) n from pop_persons where status = 'active' "
                         "group by 1, 2")  # fmt: skip

            stats_base = _time(stats_plain, range(3))
            truth = db.query("select hukou, count(*) n from pop_persons where status = 'active' "
                             "group by 1")  # fmt: skip
        finally:
            services.close()
    built = city["built"]
    load_end = os.getloadavg()[0]
    out = [
        ["form save p50 (ms)", _ms(save_ours, 50), _ms(save_base, 50),
         "ours: service (checks, duplicate search, audit); plain: unindexed check + insert"],
        ["form save p99 (ms)", _ms(save_ours, 99), _ms(save_base, 99), ""],
        ["duplicate-review screen load p99 (ms)", _ms(screen_ours, 99), _ms(screen_base, 99),
         "ours: queue, merged, second-officer requests, a pair side by side, 3 audited reads "
         "(an audit commit each); plain: the bare lists and the pair with no index, the same "
         "3 audit entries"],
        ["statistics by hukou and zone p50 (ms)", _ms(stats_ours, 50), _ms(stats_base, 50),
         "ours: counters + small-cell protection; plain: GROUP BY over the records"],
    ]  # fmt: skip
    md = table(["metric", "CityWatch", "plain approach", "note"], out)
    hk = {r["hukou"]: r["n"] for r in truth}
    scale = (f"**Measured at {n:,} persons**, the full scale." if n >= FULL else
             f"**Measured at {n:,} persons only**, not the full {FULL:,}: building the full city "
             "takes a long time on 2 cores; "
             "`make bench` measures the full scale.")  # fmt: skip
    md += (
        f"\n\n{scale} The city was {'reused from' if city['cached'] else 'built in'} this run's "
        f"shared build ({built['imported']:,} imported, {built['existing']:,} repeated documents "
        f"reported and not created, import {built['import_s']:.0f} s). Form saves: "
        f"{len(forms):,} new persons ({refused[0]} refused), and {len(again)} documents already "
        f"on record, of which {doc_refused} opened the existing person instead of a second. "
        f"Open duplicate candidates: {cands:,}. Persons by hukou: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(hk.items()))
        + f" (migrants per local {hk.get('migrant', 0) / max(hk.get('local', 1), 1):.2f}; the "
        f"article's 1.513 M / 0.748 M = 2.02). Load average {load_start:.1f} at start, "
        f"{load_end:.1f} at end."
    )
    data = {"persons": n, "built": built, "cached": city["cached"], "hukou": hk,
            "metrics": {r[0]: {"ours": r[1], "plain": r[2]} for r in out}}  # fmt: skip
    publish("population_workspace", f"Population officer's workspace ({n:,} persons)", md, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
