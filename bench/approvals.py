"""What a second person costs the software: break-the-glass through the approvals service,
and a login with its second factor, against the plain operations in the same run.

Real app over a real SQLite file (in-process HTTP client), production argon2 parameters.
Compared: an officer's request + an approver's approval + the first read of the person
(three audited HTTP calls, the approval's effect in one transaction) against one audited
read of a person in the officer's own zone; a login with its TOTP step against a login with
the password alone. The time people take to decide is not software and is not counted.
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

N_GLASS = 200
N_LOGIN = 20


def _ms(samples: list[float]) -> tuple[float, float]:
    return percentile(samples, 50) * 1000, percentile(samples, 99) * 1000


def main() -> int:
    from fastapi.testclient import TestClient

    from coordinator.app import create_app
    from coordinator.bootstrap import open_services
    from coordinator.identity.auth import Role
    from coordinator.settings import Settings
    from tests.harness.api import PASSWORD, bearer, login, seeded_secret
    from tests.harness.population import officer, person_data

    data: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        services = open_services(Settings.for_dev(Path(tmp) / "coord"))
        try:
            for name, roles, zones in (
                ("officer-a", [Role.POPULATION_OFFICER], ["Z01"]),
                ("officer-b", [Role.POPULATION_OFFICER], ["Z02"]),
                ("approver", [Role.DATA_ACCESS_APPROVER], []),
                ("operator", [Role.OPERATOR], []),
            ):
                services.auth.create_user(name, PASSWORD, roles, zones=zones,
                                          totp_secret=seeded_secret(name))  # fmt: skip
            # One officer per timed login: a code is accepted once, so a second login of
            # the same account within 30 s would wait for the clock, not for the software.
            for n in range(N_LOGIN):
                services.auth.create_user(f"officer-t{n}", PASSWORD, [Role.POPULATION_OFFICER],
                                          totp_secret=seeded_secret(f"officer-t{n}"))  # fmt: skip
            clerk = officer("clerk", ("Z01", "Z02"))
            made = [services.population.records.create_person(
                clerk, person_data(n, zone="Z01"), "bench")["person"]["id"]
                for n in range(N_GLASS)]  # fmt: skip
            with TestClient(create_app(services)) as c:
                data.update(_glass(c, made, login, bearer))
                data.update(_logins(c, login))
        finally:
            services.close()
    rows = [
        ["break-the-glass: request + approve + first read", *data["glass_ms"]],
        ["plain audited read in own zone", *data["read_ms"]],
        ["login with password + TOTP step", *data["login_totp_ms"]],
        ["login with password alone", *data["login_plain_ms"]],
    ]
    md = table(
        ["operation", "p50 ms", "p99 ms"], [[r[0], f"{r[1]:.1f}", f"{r[2]:.1f}"] for r in rows]
    )
    md += (
        f"\n\n{N_GLASS} break-the-glass round trips, {N_LOGIN} logins each way (argon2id "
        "64 MiB, 3 passes, as in production). The approval adds two audited HTTP calls and "
        "one write transaction; the second factor adds one HTTP call and one write."
    )
    publish("approvals", "Approvals: the cost of a second person", md, data)
    return 0


def _glass(c: Any, people: list[int], login: Any, bearer: Any) -> dict[str, Any]:
    purpose = {"X-Purpose": "benchmark"}
    b = {**bearer(login(c, "officer-b")), **purpose}
    a = {**bearer(login(c, "officer-a")), **purpose}
    ap = bearer(login(c, "approver"))
    glass, reads = [], []
    for pid in people:
        t0 = time.perf_counter()
        r = c.post("/api/population/break-glass", headers=b,
                   json={"person_id": pid, "reason": f"benchmark hotline call {pid} tenant"})  # fmt: skip
        c.post(f"/api/approvals/{r.json()['id']}/approve", headers=ap, json={})
        assert c.get(f"/api/population/persons/{pid}", headers=b).status_code == 200
        glass.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        assert c.get(f"/api/population/persons/{pid}", headers=a).status_code == 200
        reads.append(time.perf_counter() - t0)
    return {"glass_ms": _ms(glass), "read_ms": _ms(reads), "n_glass": len(people)}


def _logins(c: Any, login: Any) -> dict[str, Any]:
    totp, plain = [], []
    for n in range(N_LOGIN):
        t0 = time.perf_counter()
        login(c, f"officer-t{n}")
        totp.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        login(c, "operator")
        plain.append(time.perf_counter() - t0)
    return {"login_totp_ms": _ms(totp), "login_plain_ms": _ms(plain), "n_login": N_LOGIN}


if __name__ == "__main__":
    raise SystemExit(main())
