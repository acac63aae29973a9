"""How incidents end: the catalogue of disposition codes and the checks on a resolution.

The catalogue is data (``dispositions.json`` beside this module, or a centre's own file named
in the settings), not code: a centre adds a code by editing the file. Every resolution
records one code and a narrative. Operators choose from the codes marked ``operator``;
``unspecified`` is recorded only by automatic paths (a patrol unit clearing its order, rows
resolved before dispositions existed) and can be corrected afterwards.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Invalid

DEFAULT_FILE = Path(__file__).with_name("dispositions.json")
#: Recorded when an automatic path resolves an incident without a code.
UNSPECIFIED = "unspecified"
MAX_NARRATIVE = 4000


class DispositionInvalid(Invalid):
    """A resolution without a valid disposition code (422)."""


@dataclass(frozen=True)
class Disposition:
    """One code of the catalogue."""

    code: str
    operator: bool
    label: dict[str, str]


def load(path: Path | None = None) -> dict[str, Disposition]:
    """The catalogue by code (in file order); ValueError naming the file on a bad entry."""
    src = path or DEFAULT_FILE
    data: Any = json.loads(src.read_text(encoding="utf-8"))
    out: dict[str, Disposition] = {}
    for n, c in enumerate(data.get("codes", []) if isinstance(data, dict) else []):
        code = c.get("code") if isinstance(c, dict) else None
        if not isinstance(code, str) or not code.isidentifier() or code in out:
            raise ValueError(f"{src}: entry {n}: code missing, not an identifier or repeated")
        label = c.get("label") or {}
        if not isinstance(label, dict) or "en" not in label:
            raise ValueError(f"{src}: {code}: needs a label with at least 'en'")
        out[code] = Disposition(code, bool(c.get("operator", True)), dict(label))
    if UNSPECIFIED not in out:
        out[UNSPECIFIED] = Disposition(UNSPECIFIED, False, {"en": "Not recorded"})
    return out


def check(
    catalogue: dict[str, Disposition], code: str | None, narrative: str | None, *, operator: bool
) -> tuple[str, str | None]:
    """The (code, narrative) to record; DispositionInvalid when an operator's resolution
    lacks a code or names one outside the catalogue (or an automatic-only one)."""
    text = (narrative or "").strip() or None
    if text is not None and len(text) > MAX_NARRATIVE:
        raise DispositionInvalid(f"the narrative is longer than {MAX_NARRATIVE} characters")
    if not code:
        if operator:
            choices = ", ".join(c for c, d in catalogue.items() if d.operator)
            raise DispositionInvalid(
                f"resolving an incident needs a disposition code (one of: {choices})"
            )
        return UNSPECIFIED, text
    found = catalogue.get(code)
    if found is None:
        raise DispositionInvalid(
            f"unknown disposition {code!r}; the catalogue has {', '.join(catalogue)}"
        )
    if operator and not found.operator:
        raise DispositionInvalid(
            f"{code!r} is recorded only by automatic paths; choose a disposition code"
        )
    return code, text


def counts(
    rows: list[tuple[str | None, int]], catalogue: dict[str, Disposition]
) -> list[dict[str, Any]]:
    """Resolutions by disposition: every catalogue code (zero included), then any code no
    longer in the catalogue, each with its share."""
    by = {(code or UNSPECIFIED): 0 for code in catalogue}
    for code, n in rows:
        by[code or UNSPECIFIED] = by.get(code or UNSPECIFIED, 0) + n
    total = sum(by.values())
    return [
        {"code": c, "count": n, "share": round(n / total, 4) if total else 0.0}
        for c, n in by.items()
    ]
