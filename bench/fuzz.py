"""Deeper fuzzing of a production-style city than the test suite's bounded run: requests
generated from the OpenAPI document (as five roles and anonymously) and MQTT payloads
generated from the protocol's schemas on an enrolled board's own topics
(tests/harness/fuzzing.py, tests/harness/prod_city.py: the real PKI, the generated broker
config, ``coordinator run`` over HTTPS). Reports requests sent, answers by status, 500s,
coordinator crashes, and good events kept among the malformed messages.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("CITYWATCH_FUZZ_RANDOM", "1")  # a new corner of the space each run

from bench.common import publish, table  # noqa: E402
from tests.harness.fuzzing import fuzz_api, fuzz_mqtt  # noqa: E402
from tests.harness.prod_city import prod_city  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--requests", type=int, default=3000, help="generated HTTP requests")
    ap.add_argument("--messages", type=int, default=1500, help="generated MQTT messages")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="cw-bench-fuzz-") as tmp, prod_city(Path(tmp)) as prod:
        bundle = Path(tmp) / "cam-fuzz"
        assert prod.enrol("cam-fuzz", bundle)["ok"]
        board = prod.connect_board(bundle)
        try:
            t0 = time.monotonic()
            sent, good = fuzz_mqtt(prod, board, "cam-fuzz", a.messages)
            deadline = time.monotonic() + 120
            while prod.stored(good) != good and time.monotonic() < deadline:
                time.sleep(0.5)
            kept = len(prod.stored(good))
            mqtt_s = time.monotonic() - t0
        finally:
            board.close()
        stats, n_ops = fuzz_api(prod, a.requests, stop_at_500=False)
        alive = prod.centre.proc.poll() is None
    fivexx = sum(v for k, v in stats.statuses.items() if 500 <= k < 599)
    dropped = stats.statuses.get(599, 0)
    rows = [
        ["HTTP requests (OpenAPI, 6 callers)", f"{stats.sent:,}", f"{n_ops} operations",
         f"{fivexx} answers of 500, {dropped} dropped connections", f"{stats.seconds:.0f} s"],
        ["MQTT messages (protocol schemas)", f"{sent:,}", f"{len(good)} good events among them",
         f"{kept}/{len(good)} good events stored", f"{mqtt_s:.0f} s"],
    ]  # fmt: skip
    codes = ", ".join(f"{k}: {v:,}" for k, v in sorted(stats.statuses.items()))
    md = (
        table(["fuzzing", "sent", "of", "outcome", "time"], rows)
        + f"\n\nAnswers by status: {codes}. Coordinator process "
        + ("still up at the end" if alive else "**crashed**")
        + ". Target: 0 answers of 500, 0 crashes, every good event kept."
        + (
            "\n\nFirst 500s:\n\n" + "\n".join(f"- `{e}`" for e in stats.errors[:10])
            if fivexx
            else ""
        )
    )
    publish(
        "fuzz",
        "Fuzzing from the OpenAPI document and the protocol schemas",
        md,
        {"requests": stats.sent, "status": dict(stats.statuses), "http_500": fivexx,
         "operations": n_ops, "messages": sent, "good": len(good), "good_kept": kept,
         "coordinator_up": alive, "errors": stats.errors[:20]},
    )  # fmt: skip


if __name__ == "__main__":
    main()
