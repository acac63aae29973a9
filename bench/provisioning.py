"""Provisioning benchmark: time to enrol one board end to end, key generation, batch
throughput, and time from ``revoke`` to the board's disconnection.

Everything runs for real: Mosquitto from ``provision broker-config``'s output, the
coordinator API under uvicorn (HTTP on loopback), the board side in this process.
Baseline in the same run: RSA-2048 key generation against the EC P-256 we use.

Run: ``python bench/provisioning.py [--n 20]`` (or ``make bench``).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cryptography.hazmat.primitives.asymmetric import rsa  # noqa: E402

from bench.common import median, percentile, publish, table  # noqa: E402
from provisioning import pki  # noqa: E402
from provisioning.api import Coordinator  # noqa: E402
from provisioning.batch import BatchOptions, run_batch  # noqa: E402
from provisioning.enroll import EnrollOptions, enroll  # noqa: E402
from tests.harness.field import TECH_PASSWORD, FieldEnv  # noqa: E402
from tests.harness.mqtt import wait_for  # noqa: E402

FIRMWARE = Path(__file__).resolve().parent.parent / "provisioning" / "firmware_configs"


def _timed(fn, n: int) -> list[float]:  # noqa: ANN001
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=20, help="enrolments to time (median over n)")
    ap.add_argument("--batch", type=int, default=20, help="rows in the batch run")
    ap.add_argument("--revokes", type=int, default=5)
    args = ap.parse_args()

    ec_ms = _timed(pki.new_key, 200)
    rsa_ms = _timed(lambda: rsa.generate_private_key(65537, 2048), 10)

    with tempfile.TemporaryDirectory(prefix="cw-bench-prov-") as tmp:
        root = Path(tmp)
        env = FieldEnv(root / "field").start()
        try:
            api = Coordinator(env.url)
            api.login("tech-li", TECH_PASSWORD)
            token_ms, enrol_ms = [], []
            for i in range(args.n):
                t0 = time.perf_counter()
                tok = api.enrolment_token(f"cam-bench-{i}")["token"]
                token_ms.append((time.perf_counter() - t0) * 1000)
                opts = EnrollOptions(
                    coordinator=env.url, token=tok, profile="raspberry-pi-5", lat=29.3,
                    lon=120.07, heading=90, zone="Z1", owner="Yiwu PSB",
                    bundle_dir=root / "b" / str(i), firmware_dir=FIRMWARE, selftest=False,
                )  # fmt: skip
                t0 = time.perf_counter()
                res = enroll(opts, quiet=True)
                enrol_ms.append((time.perf_counter() - t0) * 1000)
                assert res["ok"], res["steps"]

            selftest_ms = []
            for i in range(3):
                tok = api.enrolment_token(f"cam-bench-st-{i}")["token"]
                opts = EnrollOptions(
                    coordinator=env.url, token=tok, profile="raspberry-pi-5", lat=29.3,
                    lon=120.07, heading=90, zone="Z1", owner="Yiwu PSB",
                    bundle_dir=root / "st" / str(i), firmware_dir=FIRMWARE,
                    source_kind="synthetic",
                )  # fmt: skip
                t0 = time.perf_counter()
                res = enroll(opts, quiet=True)
                selftest_ms.append((time.perf_counter() - t0) * 1000)
                assert res["ok"], res["steps"]

            csv = root / "sites.csv"
            csv.write_text(
                "device_id,profile,lat,lon,heading,zone,owner\n"
                + "".join(
                    f"cam-batch-{i},raspberry-pi-5,29.3,120.0,0,Z1,Yiwu PSB\n"
                    for i in range(args.batch)
                )
            )
            out = run_batch(
                csv,
                api,
                BatchOptions(env.url, root / "res", root / "bb", firmware_dir=FIRMWARE),
                progress=False,
            )
            assert out["ok"] == args.batch, out["failures"]

            revoke_ms, crl_live_ms = [], []
            for i in range(args.revokes):
                board = env.connect_board(root / "b" / str(i))
                t0 = time.perf_counter()
                ans = api.request("POST", f"/api/enrolment/devices/cam-bench-{i}/revoke", {})
                wait_for(board.disconnected.is_set, 60, "disconnect")
                revoke_ms.append((time.perf_counter() - t0) * 1000)
                crl_live_ms.append(ans["crl_live_ms"])
                board.close()
            api.close()
        finally:
            env.stop()

    rows = [
        ["key generation, EC P-256 (ours)", median(ec_ms), percentile(ec_ms, 99), len(ec_ms)],
        ["key generation, RSA-2048 (baseline)", median(rsa_ms), percentile(rsa_ms, 99), len(rsa_ms)],
        ["enrolment token (technician, HTTP)", median(token_ms), percentile(token_ms, 99), len(token_ms)],
        ["enrol end to end (token in hand → centre confirms)", median(enrol_ms), percentile(enrol_ms, 99), len(enrol_ms)],
        ["enrol with the real edge-agent self-test (synthetic camera)", median(selftest_ms), max(selftest_ms), len(selftest_ms)],
        ["revoke → CRL live at the broker", median(crl_live_ms), max(crl_live_ms), len(crl_live_ms)],
        ["revoke → live board disconnected", median(revoke_ms), max(revoke_ms), len(revoke_ms)],
    ]  # fmt: skip
    md = (
        table(["what", "median ms", "p99/max ms", "n"], rows)
        + f"\n\nBatch: {out['ok']} boards in {out['seconds']:.1f} s = **{out['per_minute']:.0f} "
        "boards/minute** (token + key + CSR + certificate + registration + bundle + first "
        "publish + centre confirmation per row, one technician, sequential).\n\n"
        "The 20-board figures skip the self-test (`--no-selftest`); the self-test row runs the "
        "real `edge-agent selftest` (model load, one frame, one inference, broker login) as a "
        "subprocess. Target for revoke → disconnect: < 60 s. The shared 2-core machine makes "
        "these figures vary by 2-3x between runs."
    )
    publish(
        "provisioning",
        "Provisioning: enrolment, batch, revocation",
        md,
        {
            "keygen_ec_ms": ec_ms,
            "keygen_rsa_ms": rsa_ms,
            "enrol_ms": enrol_ms,
            "enrol_with_selftest_ms": selftest_ms,
            "token_ms": token_ms,
            "batch": out,
            "revoke_disconnect_ms": revoke_ms,
            "crl_live_ms": crl_live_ms,
        },
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
