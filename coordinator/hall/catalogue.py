"""The hall's service catalogue: data (``catalogue.json``, or an operator's own file), not code.

Each service names its counter, its time limit in working days and the documents an
application needs. The file is validated when it is loaded; a bad file stops the start with
the field that is wrong. Deadlines count working days (Monday to Friday, less the listed
holidays) and are pure functions over dates.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

DEFAULT_FILE = Path(__file__).with_name("catalogue.json")
#: A decision due on a working day is due by the end of office hours (17:30 local, UTC+8).
CLOSE_OF_DAY = dt.time(9, 30)  # 17:30 Beijing time in UTC
LOCAL = dt.timezone(dt.timedelta(hours=8))

Names = dict[str, str]


class Counter(BaseModel):
    """A counter of the hall (a queue)."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[A-Z][A-Z0-9]{0,7}$", description="the counter's sign")
    name: Names = Field(description="display name by locale (en, zh-CN)")


class Document(BaseModel):
    """A kind of supporting document."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z_]{2,40}$")
    name: Names


class Service(BaseModel):
    """One service of the hall."""

    model_config = ConfigDict(extra="forbid")
    code: str = Field(pattern=r"^[a-z_]{2,40}$")
    counter: str
    days: int = Field(ge=1, le=60, description="time limit in working days")
    name: Names
    documents: list[str] = Field(min_length=1, description="required documents (codes)")


class Catalogue(BaseModel):
    """The whole catalogue, checked for consistency."""

    model_config = ConfigDict(extra="forbid")
    version: int
    note: str = ""
    holidays: list[dt.date] = []
    counters: list[Counter] = Field(min_length=1)
    documents: list[Document] = Field(min_length=1)
    services: list[Service] = Field(min_length=1)

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        counters = {c.code for c in self.counters}
        docs = {d.code for d in self.documents}
        seen: set[str] = set()
        for s in self.services:
            if s.code in seen:
                raise ValueError(f"service {s.code} is listed twice")
            seen.add(s.code)
            if s.counter not in counters:
                raise ValueError(f"service {s.code} names an unknown counter {s.counter}")
            unknown = [d for d in s.documents if d not in docs]
            if unknown:
                raise ValueError(f"service {s.code} needs unknown documents {unknown}")
        for need in ("visa_extension", "accommodation_registration"):
            if need not in seen:
                raise ValueError(f"the catalogue must offer {need}")
        return self

    def service(self, code: str) -> Service | None:
        """A service by its code."""
        return next((s for s in self.services if s.code == code), None)

    def counter_codes(self) -> list[str]:
        """The counters' signs, in catalogue order."""
        return [c.code for c in self.counters]


def load(path: Path | None = None) -> Catalogue:
    """Read and validate a catalogue file (the shipped one by default)."""
    p = path or DEFAULT_FILE
    return Catalogue.model_validate(json.loads(p.read_text(encoding="utf-8")))


def add_working_days(start: dt.date, days: int, holidays: frozenset[dt.date]) -> dt.date:
    """The date ``days`` working days after ``start`` (pure)."""
    d = start
    left = days
    while left > 0:
        d += dt.timedelta(days=1)
        if d.weekday() < 5 and d not in holidays:
            left -= 1
    return d


def due_at(applied_at: float, days: int, holidays: frozenset[dt.date]) -> float:
    """The decision deadline of an application made at ``applied_at`` (UNIX seconds): the
    close of office hours (Beijing time) on the ``days``-th working day after it."""
    local = dt.datetime.fromtimestamp(applied_at, LOCAL).date()
    day = add_working_days(local, days, holidays)
    return dt.datetime.combine(day, CLOSE_OF_DAY, dt.UTC).timestamp()
