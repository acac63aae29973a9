"""End-to-end acknowledgement: events lost when the broker is SIGKILLed with the centre offline.

The scenario that lost events before: the centre is down, a board sends N events, the broker
acknowledges every one (PUBACK) and is killed before its periodic save. Measured for real
(Mosquitto with persistence, the coordinator's ingest on a real SQLite file, the board's own
link and spool) in two modes in the same run:

- *PUBACK only* (the baseline, as boards on older firmware behave): the board deletes an
  event from its spool when the broker acknowledges it.
- *end to end*: the board keeps every event until the centre's committed watermark covers it
  and re-sends what the watermark has not covered after reconnecting.

Run: ``python bench/e2e_ack.py [--n 3000]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import publish, table  # noqa: E402
from edge_agent.spool import Spool  # noqa: E402
from protocol import encode  # noqa: E402
from tests.harness.board_link import board_link  # noqa: E402
from tests.harness.brokers import start_plain  # noqa: E402
from tests.harness.core import core_settings, count, event, register, running_core  # noqa: E402
from tests.harness.mqtt import wait_for  # noqa: E402

DEV = "cam-1"


def _stored(svc) -> int:  # noqa: ANN001
    return count(svc, "select count(distinct seq) from events where dev = ?", [DEV])


def run(n: int, end_to_end: bool, work: Path) -> dict[str, float]:
    """One run of the scenario; returns events sent, stored, lost and the time to recover."""
    broker = start_plain(work / "broker", persistence=True)
    port = broker.ports[0]
    spool = Spool(work / "spool.db")
    link = board_link(port, DEV, spool, inflight=256)
    settings = core_settings(work / "centre", port, mqtt_client_id="coord-bench")
    first = 0
    try:
        with running_core(settings) as svc:
            register(svc)
            if end_to_end:
                # The board meets this centre once: its first watermark switches it over.
                link.start()
                first = 5
                for _ in range(first):
                    spool.append(lambda seq: encode(event(DEV, seq, track=seq)))
                link.kick()
                wait_for(lambda: spool.committed() == first, 30, "first watermark")
        if not end_to_end:
            link.start()
        for _ in range(n):
            spool.append(lambda seq: encode(event(DEV, seq, track=seq)))
        link.kick()
        wait_for(lambda: link.published >= first + n, 120, "PUBACKs for every event")
        kept = spool.depth()
        broker.kill()
        broker.start()
        t0 = time.perf_counter()
        with running_core(settings) as svc:
            total = first + n
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline and _stored(svc) < total:
                time.sleep(0.2)
            recovered = time.perf_counter() - t0
            stored = _stored(svc)
        return {
            "sent": n,
            "kept_after_puback": kept,
            "stored": stored - first,
            "lost": total - stored,
            # Never all stored when something was lost: no recovery time to report.
            "recover_s": recovered if stored >= total else float("nan"),
        }
    finally:
        link.stop()
        spool.close()
        broker.stop()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=3000, help="events sent while the centre is down")
    args = ap.parse_args()
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, e2e in (("PUBACK only (baseline)", False), ("end to end (watermark)", True)):
            results[name] = run(args.n, e2e, Path(tmp) / name.split()[0])
    rows = [
        [name, r["sent"], r["kept_after_puback"], r["stored"], r["lost"], r["recover_s"]]
        for name, r in results.items()
    ]
    md = (
        "Centre offline; the board sends N events; the broker (persistence on) acknowledges "
        "them and is SIGKILLed before its periodic save; the broker and then the centre come "
        "back. *Kept* is what the board still holds after every PUBACK.\n\n"
        + table(
            [
                "mode",
                "events sent",
                "kept on the board",
                "stored at the centre",
                "lost",
                "time to store all after restart (s)",
            ],
            rows,
        )  # fmt: skip
    )
    publish("e2e_ack", "End-to-end acknowledgement: broker SIGKILL with the centre offline", md,
            {"results": results})  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
