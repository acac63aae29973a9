"""The hall clerk's counter queue at Yiwu's scale, against the plain approach in the same run.

A real database (SQLite file, all migrations) holding a year of the hall's work as the
generator makes it (13,000 resident foreigners, 25,700 cases a year, about a thousand of
them open at any time, a few hundred overdue) and the documents table filled for the open
cases. Compared, interleaved so drift on the shared machine hits both alike:

- **ours**: ``HallService.queue`` — the composite index (counter, status, due date), the
  documents of every listed case in one query, one audit entry for the list;
- **plain**: the same answer as a first implementation gives it — the cases filtered without
  the index (a scan of the table) and each row's documents looked up on its own, with the
  same audit entry.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, publish, table  # noqa: E402

N = 300
COUNTERS = ("A", "B", "C")


def plain_queue(hall: Any, counter: str) -> list[dict[str, Any]]:
    """The queue without the index (``+column`` keeps SQLite off it) and with one documents
    query per row."""
    from coordinator.hall.cases import CASE_COLUMNS

    now = hall.clock()
    live = ["applied", "documents_checked", "under_review", "decided"]
    rows = hall.db.query(
        f"select {CASE_COLUMNS} from hall_cases where +counter = ? and +status in "
        f"({', '.join('?' * len(live))}) order by status = 'decided', due_at, id limit 500",
        [counter, *live],
    )
    out = [hall.decorate(r, now) for r in rows]
    hall.audit.record("bench", "hall_queue", "hall_case", None, "bench", {"counter": counter})
    return out


def main() -> int:
    from coordinator.bootstrap import open_services
    from coordinator.settings import Settings
    from devtools.hall_data import HallSpec, load

    data: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        services = open_services(Settings.for_dev(Path(tmp) / "coord"))
        try:
            hall = services.hall
            spec = HallSpec()
            t0 = time.perf_counter()
            n = load(services.db, services.population.ctx.keyring, spec, time.time())
            build_s = time.perf_counter() - t0
            open_ids = [r["id"] for r in services.db.query(
                "select id from hall_cases where status in "
                "('applied','documents_checked','under_review','decided')")]  # fmt: skip

            def docs(w: Any) -> None:
                for cid in open_ids:
                    for doc in ("passport", "application_form", "photo"):
                        w.execute("insert into hall_case_documents (case_id, doc, file_id, at, "
                                  "actor) values (?, ?, ?, 0, 'bench')", [cid, doc, f"{cid:032x}"])  # fmt: skip

            services.db.write(docs)
            sizes = {c: len(hall.queue("bench", c, "bench")) for c in COUNTERS}
            assert [r["id"] for r in plain_queue(hall, "A")] == [
                r["id"] for r in hall.queue("bench", "A", "bench")
            ]
            ours: list[float] = []
            plain: list[float] = []
            for i in range(N):
                c = COUNTERS[i % 3]
                t = time.perf_counter()
                hall.queue("bench", c, "bench")
                ours.append(time.perf_counter() - t)
                t = time.perf_counter()
                plain_queue(hall, c)
                plain.append(time.perf_counter() - t)
        finally:
            services.close()
    ms = lambda v, p: percentile(v, p) * 1000  # noqa: E731
    data = {
        "cases": n, "foreigners": spec.foreigners, "open_cases": len(open_ids),
        "queue_sizes": sizes, "build_s": build_s, "calls": N,
        "ours_p50_ms": ms(ours, 50), "ours_p99_ms": ms(ours, 99),
        "plain_p50_ms": ms(plain, 50), "plain_p99_ms": ms(plain, 99),
    }  # fmt: skip
    md = (
        f"A year of the hall's work: {n:,} cases of {spec.foreigners:,} resident foreigners "
        f"({len(open_ids):,} open or waiting to be collected; queue lengths "
        f"{', '.join(f'{c} {s}' for c, s in sizes.items())}), built in {build_s:.1f} s. "
        f"{N} queue loads each, interleaved, counters in turn; each load audited.\n\n"
        + table(
            ["approach", "p50 ms", "p99 ms"],
            [
                [
                    "ours: index on (counter, status, due), documents in one query",
                    f"{data['ours_p50_ms']:.1f}",
                    f"{data['ours_p99_ms']:.1f}",
                ],
                [
                    "plain: table scan, one documents query per row",
                    f"{data['plain_p50_ms']:.1f}",
                    f"{data['plain_p99_ms']:.1f}",
                ],
            ],  # fmt: skip
        )
    )
    publish("hall", "Foreigners' service hall: counter queue", md, data)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
