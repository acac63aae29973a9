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
            make = names.company if kind == "company" else names.community
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
