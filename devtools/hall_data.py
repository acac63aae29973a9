"""Generated work of the foreigners' service hall: resident foreigners and a year of cases.

The shape follows Yiwu's hall: about 13,000 resident foreigners (traders from South Asia,
the Middle East, Africa, Korea and Russia first) and about 25,700 cases a year, most of
them visa extensions and residence permits; fewer around the Spring Festival, more before
the spring and autumn trade fairs. Everything is a parameter; the demo and the benchmark
scale it. Not for production.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass
from typing import Any

from coordinator.hall import catalogue as cat
from coordinator.hall.cases import new_receipt
from coordinator.population.crypto import Keyring
from coordinator.population.ids import mask_id

#: Nationalities of Yiwu's resident foreigners, by weight.
NATIONALITIES = (
    ("IN", 14), ("PK", 10), ("AF", 8), ("YE", 7), ("SY", 6), ("IQ", 6), ("EG", 5), ("KR", 6),
    ("RU", 5), ("NG", 4), ("DZ", 4), ("JO", 3), ("TR", 3), ("IR", 3), ("SD", 3), ("UA", 2),
    ("US", 2), ("SN", 2), ("MA", 2), ("BD", 2), ("KZ", 2), ("LB", 1), ("ML", 1), ("SO", 1),
)  # fmt: skip
#: Services of the hall by share of its cases.
SERVICE_MIX = (
    ("visa_extension", 38), ("residence_permit_first", 12), ("residence_permit_renewal", 18),
    ("residence_permit_change", 5), ("accommodation_registration", 15), ("visa_replacement", 3),
    ("permit_replacement", 3), ("stay_permit", 4), ("exit_permit", 2),
)  # fmt: skip
#: Relative workload by month (January first): the Spring Festival dip, the fairs' peaks.
MONTH_SHAPE = (0.9, 0.55, 1.1, 1.2, 1.0, 0.95, 0.9, 0.95, 1.15, 1.2, 1.05, 0.95)
NAMES = ("Ahmed", "Ali", "Olena", "Min-jun", "Ivan", "Chinedu", "Fatima", "Omar", "Priya",
         "Rahul", "Yusuf", "Aisha", "Karim", "Maria", "Samir", "Hassan", "Leila", "Dmitri")  # fmt: skip
SURNAMES = ("Khan", "Sharma", "Karimi", "Al-Saidi", "Kim", "Petrov", "Okafor", "Haddad",
            "Mansour", "Kovalenko", "Diallo", "Rahman", "Yilmaz", "Nasser", "Park", "Ivanova")  # fmt: skip


@dataclass(frozen=True)
class HallSpec:
    """How much to generate."""

    foreigners: int = 13_000
    cases_per_year: int = 25_700
    years: float = 1.0
    seed: int = 7

    @classmethod
    def scaled(cls, persons: int, seed: int = 7) -> HallSpec:
        """The hall's work for a city of ``persons`` (Yiwu: 2.3 M), with a floor for demos."""
        k = persons / 2_300_000
        return cls(max(40, round(13_000 * k)), max(150, round(25_700 * k)), 1.0, seed)


def _pick(rng: random.Random, table: tuple[tuple[str, int], ...]) -> str:
    return rng.choices([k for k, _ in table], weights=[w for _, w in table])[0]


def foreigners(spec: HallSpec) -> list[dict[str, str]]:
    """The resident foreigners: name, nationality, passport number (distinct)."""
    rng = random.Random(spec.seed)
    out = []
    for i in range(spec.foreigners):
        nat = _pick(rng, NATIONALITIES)
        out.append({"applicant_name": f"{rng.choice(NAMES)} {rng.choice(SURNAMES)}",
                    "nationality": nat, "passport_number": f"{nat[0]}{10_000_000 + i * 7919 % 89_999_999}"})  # fmt: skip
    return out


def applied_times(spec: HallSpec, now: float, rng: random.Random) -> list[float]:
    """When each case was applied for: the year before ``now``, in office hours, weighted by
    month (the year-shaped stream)."""
    n = round(spec.cases_per_year * spec.years)
    days = int(365 * spec.years)
    start = dt.datetime.fromtimestamp(now, dt.UTC).date() - dt.timedelta(days=days)
    weights = []
    for d in range(days):
        day = start + dt.timedelta(days=d + 1)
        weights.append(0.0 if day.weekday() >= 5 else MONTH_SHAPE[day.month - 1])
    picks = rng.choices(range(days), weights=weights, k=n)
    out = []
    for d in sorted(picks):
        day = start + dt.timedelta(days=d + 1)
        t = dt.datetime.combine(day, dt.time(1, 0), dt.UTC).timestamp() + rng.uniform(0, 7.5 * 3600)
        out.append(min(t, now - 60))
    return out


def _outcome(rng: random.Random, applied: float, due: float, now: float) -> dict[str, Any]:
    """Where a case of this age stands today (statuses and their times)."""
    span = max(3600.0, due - applied)
    if now < due - 0.3 * span or (now < due and rng.random() < 0.6) or rng.random() < 0.01:
        status = rng.choice(("applied", "documents_checked", "under_review"))
        return {"status": status, "checked_at": None if status == "applied" else applied + 1800,
                "review_at": applied + 3600 if status == "under_review" else None}  # fmt: skip
    decided = min(now - 60, applied + rng.uniform(0.2, 0.95) * span)
    r = rng.random()
    if r < 0.05:
        return {"status": "withdrawn", "closed_at": decided, "note": "applicant left China"}
    base = {"checked_at": applied + 1800, "review_at": applied + 3600, "decided_at": decided}
    if r < 0.11:
        return {**base, "status": "rejected", "decision": "refused", "closed_at": decided,
                "decision_reason": "purpose of stay not proven"}  # fmt: skip
    collected = decided + rng.uniform(0.5, 10) * 86400
    granted = (
        dt.datetime.fromtimestamp(decided, dt.UTC).date()
        + dt.timedelta(days=rng.choice((90, 180, 365)))
    ).isoformat()
    closed = collected < now
    return {**base, "status": "collected" if closed else "decided", "decision": "approved",
            "decision_reason": "requirements met", "granted_until": granted,
            "closed_at": collected if closed else None}  # fmt: skip


def cases(spec: HallSpec, keyring: Keyring, now: float) -> list[dict[str, Any]]:
    """Rows of ``hall_cases`` for the generated year (passports encrypted as the service does)."""
    rng = random.Random(spec.seed + 1)
    people = foreigners(spec)
    c = cat.load()
    holidays = frozenset(c.holidays)
    rows = []
    for applied in applied_times(spec, now, rng):
        who = rng.choice(people)
        svc = c.service(_pick(rng, SERVICE_MIX))
        assert svc is not None
        due = cat.due_at(applied, svc.days, holidays)
        n, nat = who["passport_number"], who["nationality"]
        row: dict[str, Any] = {"receipt": new_receipt(), "service": svc.code, "counter": svc.counter,
               "applicant_name": who["applicant_name"], "name_latin": who["applicant_name"].upper(),
               "nationality": nat, "passport_enc": keyring.encrypt("passport", n),
               "passport_hash": keyring.lookup_hash("hall_passport", f"{nat}:{n}"),
               "passport_masked": mask_id(n), "applied_at": applied, "due_at": due,
               "clerk": rng.choice(("clerk", "clerk2", "clerk3")), "checked_at": None,
               "review_at": None, "decided_at": None, "closed_at": None, "decision": None,
               "decision_reason": None, "granted_until": None, "note": None}  # fmt: skip
        row.update(_outcome(rng, applied, due, now))
        stamps = ("applied_at", "checked_at", "review_at", "decided_at", "closed_at")
        row["updated_at"] = max(float(row[k]) for k in stamps if row[k])
        rows.append(row)
    return rows


def load(db: Any, keyring: Keyring, spec: HallSpec, now: float) -> int:
    """Write the generated cases (and their application events) in chunks; returns the count."""
    rows = cases(spec, keyring, now)
    cols = list(rows[0]) if rows else []
    for i in range(0, len(rows), 2000):
        chunk = rows[i : i + 2000]

        def write(w: Any, chunk: list[dict[str, Any]] = chunk) -> None:
            for r in chunk:
                cur = w.execute(
                    f"insert into hall_cases ({', '.join(cols)}) values ({', '.join('?' * len(cols))})",
                    [r[c] for c in cols],
                )
                w.execute(
                    "insert into hall_case_events (case_id, at, actor, from_status, to_status) "
                    "values (?, ?, ?, null, 'applied')",
                    [cur.lastrowid, r["applied_at"], r["clerk"]],
                )

        db.write(write)
    return len(rows)
