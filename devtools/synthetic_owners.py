"""Who owns the synthetic city's cameras: the public-security bureau (about 15 %, one owner
per police-station area), companies (about 60 %) and residents' communities (about 25 %),
each with a generated Chinese name. A company or community owns cameras near its own
premises: each is based in one patrol zone and its cameras are drawn in that zone.

Deterministic for a seed. Names come from :mod:`devtools.synthetic_names`.
"""

from __future__ import annotations

import random
from typing import Any

from . import synthetic_names as names

#: (owner type, share of cameras, cameras per owner on average)
SHARES = (("government", 0.15, 0), ("company", 0.6, 16), ("community", 0.25, 60))


def _community(place: str, rng: random.Random) -> str:
    """A residents' community, or now and then a school or a hospital (their cameras are
    registered as community-owned; the organisation record says what they are)."""
    x = rng.random()
    if x < 0.1:
        return f"义乌市{place}{rng.choice(('小学', '中学', '实验学校'))}"
    if x < 0.15:
        return f"义乌市{place}{rng.choice(('医院', '社区卫生服务中心'))}"
    return names.community(place, rng)


def org_kind(name: str, owner_type: str) -> str:
    """An organisation's kind from its generated name (school, hospital) or its type."""
    if name.endswith(("小学", "中学", "学校")):
        return "school"
    if name.endswith(("医院", "卫生服务中心")):
        return "hospital"
    return owner_type


#: Share of non-government organisations by what their agreement lets the centre receive:
#: most share events only, some snapshots on an incident (some only by day), a few live view.
AGREEMENTS = (("events", 0.7), ("snapshots", 0.25), ("live", 0.05))


def agreement(org_id: int, kind: str, rng: random.Random, now: float) -> dict[str, Any] | None:
    """Generated terms of one organisation (None: government, the default: everything)."""
    if kind == "government":
        return None
    x, level = rng.random(), AGREEMENTS[-1][0]
    for name, share in AGREEMENTS:
        if x < share:
            level = name
            break
        x -= share
    day = level != "events" and rng.random() < 0.4  # shared only 08:00–20:00
    return {
        "key": f"org:{org_id}",
        "org_id": org_id,
        "device_id": None,
        "level": level,
        "hours_from": 8 if day else None,
        "hours_to": 20 if day else None,
        "retention_days": rng.choice((7.0, 15.0, 30.0)) if level != "events" else None,
        "valid_from": now - rng.randrange(30, 900) * 86400,
        "valid_to": now + rng.randrange(90, 1100) * 86400,
        "agreed_by": f"{rng.choice(names_surnames())}{rng.choice(('经理', '主任', '校长', '院长'))}",
        "note": f"义公共享〔{rng.randrange(2021, 2027)}〕{rng.randrange(1, 999)}号",
        "updated_at": now,
        "updated_by": "devcity",
    }


def names_surnames() -> tuple[str, ...]:
    """Common surnames for who signed an agreement."""
    return ("王", "李", "张", "刘", "陈", "杨", "黄", "吴", "赵", "周", "徐", "孙", "朱", "胡")


class Owners:
    """Owner organisations per patrol zone, and a draw of one for a camera."""

    def __init__(self, zones: dict[str, Any], cameras: int, seed: int = 11) -> None:
        rng = random.Random(seed)
        namer = names.Namer(seed + 7)
        feats = [f["properties"] for f in zones.get("features", [])]
        patrol = [p for p in feats if p.get("kind", "patrol") == "patrol"]
        stations = {p["id"]: p.get("name", p["id"]) for p in feats if p.get("kind") == "station"}
        self._gov: dict[str | None, str] = {}
        for p in patrol:
            station = stations.get(p.get("station") or "", "")
            self._gov[p["id"]] = (
                names.government(station.removesuffix("派出所")) if station else "义乌市公安局"
            )
        self._gov[None] = "义乌市公安局"
        self._orgs: dict[tuple[str, str | None], list[str]] = {}
        n_zones = max(1, len(patrol))
        for kind, share, per_owner in SHARES[1:]:
            per_zone = max(1, round(cameras * share / per_owner / n_zones))
            make = names.company if kind == "company" else _community
            for zid in [p["id"] for p in patrol] + [None]:
                self._orgs[(kind, zid)] = [make(namer.place(), rng) for _ in range(per_zone)]

    def pick(self, zone: str | None, rng: random.Random) -> tuple[str, str]:
        """(owner type, owner organisation) for a camera in ``zone``."""
        x = rng.random()
        for kind, share, _ in SHARES:
            if x < share or kind == SHARES[-1][0]:
                break
            x -= share
        if kind == "government":
            return kind, self._gov.get(zone, self._gov[None])
        orgs = self._orgs.get((kind, zone)) or self._orgs[(kind, None)]
        return kind, rng.choice(orgs)

    def count(self) -> int:
        """How many distinct owner organisations there are."""
        return len(set(self._gov.values())) + sum(len(v) for v in self._orgs.values())
