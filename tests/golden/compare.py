"""Normalising recorded API answers and comparing them with a golden recording (pure code).

Normalisation makes two runs of the same scenario equal without hiding what a client reads:
values that differ on every run (uuids, database ids, timestamps, ages, tokens, dates relative
to today) become placeholders, numbered by first appearance so that "the same id twice" is
still visible; floats are rounded. Everything else is kept as it is, in the order the API
returned it.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

# Canonical and compact (32 hex digits, as the coordinator's uuid7 ids are written) forms.
UUID = re.compile(
    r"\b(?:[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|[0-9a-f]{32})\b", re.I
)
ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"
)
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TOKEN_KEYS = {"access_token", "token", "refresh_token"}
TIME_KEYS = {
    "ts",
    "t",
    "time",
    "now",
    "since",
    "until",
    "last_seen",
    "expires",
    "sent",
    "effective",
}
TIME_SUFFIXES = ("_at", "_ts", "_ms", "_time", "_until", "_since", "_seen")
AGE_WORDS = ("age", "elapsed", "uptime")
# Durations measured on the wall clock during the run (KPI percentiles, ingest lag).
MEASURED = re.compile(r"^((p\d+|mean|avg|min|max)_s|lag_s|.*_lag_s)$")
FLOAT_DIGITS = 4
RELATIVE_DAYS = 60
SEMVER = re.compile(r"^\d+\.\d+\.\d+([.+-].*)?$")
# Wall-clock amounts inside human-readable text (a unit's position age in ranking reasons).
VOLATILE_TEXT = [(re.compile(r"position \d+ s old"), "position <n> s old")]
# Epoch seconds or milliseconds between 2001 and 2096: a timestamp whatever its key.
EPOCH_S = (1e9, 4e9)
EPOCH_MS = (1e12, 4e12)


def _is_time_key(key: str) -> bool:
    k = key.lower()
    return (
        k in TIME_KEYS
        or k.endswith(TIME_SUFFIXES)
        or any(w in k.split("_") or k.startswith(w) for w in AGE_WORDS)
    )


def _is_id_key(key: str) -> bool:
    k = key.lower()
    return k == "id" or k.endswith(("_id", "_ids"))


class Normaliser:
    """Replaces volatile values with stable placeholders; one instance per recorded session."""

    def __init__(self, today: dt.date | None = None) -> None:
        self.today = today or dt.date.today()
        self.uuids: dict[str, str] = {}
        self.ids: dict[int, str] = {}

    def _uuid(self, m: re.Match[str]) -> str:
        v = m.group(0).lower()
        return self.uuids.setdefault(v, f"<uuid{len(self.uuids) + 1}>")

    def _id(self, v: int) -> str:
        return self.ids.setdefault(v, f"<id{len(self.ids) + 1}>")

    def text(self, s: str) -> str:
        """A string with its uuids replaced (also inside longer text such as URLs)."""
        for pattern, repl in VOLATILE_TEXT:
            s = pattern.sub(repl, s)
        return UUID.sub(self._uuid, s)

    def __call__(self, value: Any, key: str = "") -> Any:
        """The normalised copy of ``value`` found under ``key``."""
        if isinstance(value, dict):
            return {k: self(v, str(k)) for k, v in value.items()}
        if isinstance(value, list):
            if _is_id_key(key):
                return [self(v, "id") for v in value]
            return [self(v, "") for v in value]
        if value is None or isinstance(value, bool):
            return value
        if key.lower() in TOKEN_KEYS and isinstance(value, str):
            return "<token>"
        if key.lower() == "version" and isinstance(value, str) and SEMVER.match(value):
            return "<version>"  # the release number changes with every release
        if _is_time_key(key) and isinstance(value, int | float | str):
            return "<ts>"
        if MEASURED.match(key.lower()) and isinstance(value, int | float):
            return "<duration>"
        if isinstance(value, int) and _is_id_key(key):
            return self._id(value)
        if isinstance(value, int | float):
            if EPOCH_S[0] <= value < EPOCH_S[1] or EPOCH_MS[0] <= value < EPOCH_MS[1]:
                return "<ts>"
            return round(value, FLOAT_DIGITS) if isinstance(value, float) else value
        if isinstance(value, str):
            return self._string(value)
        return value

    def _string(self, s: str) -> str:
        if ISO_DATETIME.match(s):
            return "<ts>"
        if ISO_DATE.match(s):
            try:
                days = (dt.date.fromisoformat(s) - self.today).days
            except ValueError:
                return s
            # Dates near today were computed from today (due dates); fixed ones stay literal,
            # so a scenario's fixed dates must lie more than RELATIVE_DAYS before recording.
            return f"<today{days:+d}d>" if abs(days) <= RELATIVE_DAYS else s
        return self.text(s)


@dataclass(frozen=True)
class Allowed:
    """An intended difference: ``*`` in ``call`` or ``path`` matches anything (also ``[*]``)."""

    call: str
    path: str
    reason: str

    def covers(self, call: str, path: str) -> bool:
        """Whether this entry allows a difference at ``path`` in ``call``."""
        return _wild(self.call).fullmatch(call) is not None and (
            _wild(self.path).fullmatch(path) is not None
        )


def _wild(pattern: str) -> re.Pattern[str]:
    return re.compile(".*".join(re.escape(part) for part in pattern.split("*")))


def differences(golden: Any, actual: Any, path: str = "$") -> Iterator[tuple[str, str]]:
    """(path, message) for each golden value that is missing or changed in ``actual``.

    Fields added in ``actual`` are fine; a list must keep its length, compared item by item.
    """
    if isinstance(golden, dict):
        if not isinstance(actual, dict):
            yield path, f"was an object, now {_short(actual)}"
            return
        for k, v in golden.items():
            sub = f"{path}.{k}"
            if k not in actual:
                yield sub, f"field dropped (was {_short(v)})"
            else:
                yield from differences(v, actual[k], sub)
    elif isinstance(golden, list):
        if not isinstance(actual, list):
            yield path, f"was a list, now {_short(actual)}"
            return
        if len(golden) != len(actual):
            yield path, f"list had {len(golden)} items, now {len(actual)}"
        for i, (g, a) in enumerate(zip(golden, actual, strict=False)):
            yield from differences(g, a, f"{path}[{i}]")
    elif golden != actual or type(golden) is not type(actual):
        yield path, f"was {_short(golden)}, now {_short(actual)}"


def _short(v: Any) -> str:
    s = repr(v)
    return s if len(s) <= 120 else s[:117] + "..."
