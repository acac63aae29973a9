"""The SQL the domains write for SQLite, made to run through psycopg (pure text).

Placeholders, outside string literals, quoted identifiers and comments:

* ``?`` → ``%s``; ``?NNN`` (SQLite's numbered parameter) → ``%s`` with the parameters
  repeated in the order they are named (a bare ``?`` after ``?N`` is ``N + 1``, as in
  SQLite);
* ``:name`` → ``%(name)s`` when the parameters are a mapping (``::`` is left alone);
* ``??`` → a literal ``?`` (SQLite has no such token; PostgreSQL's ``jsonb ?`` operator can
  be written so);
* ``%`` → ``%%`` everywhere (psycopg reads ``%`` in the whole text, literals included).

``BEGIN IMMEDIATE|EXCLUSIVE|DEFERRED`` → ``BEGIN``. Nothing else is rewritten: functions,
``MATCH``, loose typing and the like are the domains' to write portably (docs/scaling.md).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

_BEGIN = re.compile(r"^\s*begin\s+(immediate|exclusive|deferred)(\s+transaction)?\s*;?\s*$", re.I)
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DIGITS = re.compile(r"[0-9]+")
_WORD = re.compile(r"[A-Za-z0-9_$]")
_INSERT = re.compile(
    r"^\s*insert\s+into\s+(\"[^\"]+\"|\w+)\s*(?:\(([^()]*)\))?\s*(values|select|default)\b",
    re.I | re.S,
)
_RETURNING = re.compile(r"\breturning\b", re.I)


class NotTranslated(ValueError):
    """SQL whose parameters cannot be matched (the message says how)."""


@dataclass(frozen=True)
class Translated:
    """A statement for psycopg and the parameters to pass with it."""

    sql: str
    params: Sequence[Any] | Mapping[str, Any]


def _skip_quoted(sql: str, i: int, quote: str) -> int:
    """The index after the literal or identifier opened at ``i`` (doubled quotes inside)."""
    n = len(sql)
    j = i + 1
    while j < n:
        if sql[j] == quote:
            if j + 1 < n and sql[j + 1] == quote:
                j += 2
                continue
            return j + 1
        j += 1
    return n


def _skip_comment(sql: str, i: int) -> int:
    """The index after the comment opened at ``i`` (``--`` or ``/*``), else ``i``."""
    two = sql[i : i + 2]
    if two == "--":
        end = sql.find("\n", i)
        return len(sql) if end < 0 else end + 1
    if two == "/*":
        end = sql.find("*/", i + 2)
        return len(sql) if end < 0 else end + 2
    return i


def scan(sql: str) -> list[tuple[bool, str]]:
    """``(is_code, text)`` pieces of ``sql``: code, or a string literal, quoted identifier
    or comment (never rewritten)."""
    out: list[tuple[bool, str]] = []
    i = start = 0
    n = len(sql)
    while i < n:
        c = sql[i]
        if c in "'\"`":
            end = _skip_quoted(sql, i, c)
        elif c == "[":
            close = sql.find("]", i)
            end = n if close < 0 else close + 1
        else:
            end = _skip_comment(sql, i)
            if end == i:
                i += 1
                continue
        if i > start:
            out.append((True, sql[start:i]))
        out.append((False, sql[i:end]))
        i = start = end
    if start < n:
        out.append((True, sql[start:]))
    return out


def _code(text: str, named: bool, order: list[int | str]) -> str:
    """One code piece with its placeholders rewritten; ``order`` collects what each ``%s``
    takes (a 0-based index) or each ``%(name)s`` names."""
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == "%":
            out.append("%%")
        elif c == "?" and text[i + 1 : i + 2] == "?":
            out.append("?")
            i += 1
        elif c == "?":
            m = _DIGITS.match(text, i + 1)
            last = max((k for k in order if isinstance(k, int)), default=-1)
            order.append(int(m.group()) - 1 if m else last + 1)
            out.append("%s")
            i = m.end() - 1 if m else i
        elif c == ":" and named and text[i + 1 : i + 2] != ":" and text[i - 1 : i] != ":":
            m = _NAME.match(text, i + 1)
            if m is None or (i > 0 and _WORD.match(text[i - 1])):
                out.append(c)
            else:
                order.append(m.group())
                out.append(f"%({m.group()})s")
                i = m.end() - 1
        else:
            out.append(c)
        i += 1
    return "".join(out)


def translate(sql: str, params: Sequence[Any] | Mapping[str, Any] | None = ()) -> Translated:
    """``sql`` and ``params`` as psycopg takes them (see the module's docstring)."""
    if _BEGIN.match(sql):
        return Translated("BEGIN", ())
    named = isinstance(params, Mapping)
    order: list[int | str] = []
    text = "".join(
        _code(piece, named, order) if is_code else piece.replace("%", "%%")
        for is_code, piece in scan(sql)
    )
    if params is None:
        params = ()
    if isinstance(params, Mapping):
        if any(isinstance(k, int) for k in order):
            raise NotTranslated("positional placeholders with named parameters")
        missing = {k for k in order if isinstance(k, str) and k not in params}
        if missing:
            raise NotTranslated(f"no value for :{', :'.join(sorted(missing))}")
        return Translated(text, {k: adapt(v) for k, v in params.items()})
    values = list(params)
    if any(isinstance(k, str) for k in order):
        raise NotTranslated("named placeholders need a mapping of parameters")
    idx = [k for k in order if isinstance(k, int)]
    plain = idx == list(range(len(idx)))
    if (plain and len(idx) != len(values)) or any(k >= len(values) for k in idx):
        raise NotTranslated(f"{len(idx)} placeholders, {len(values)} parameters")
    picked = values if plain else [values[k] for k in idx]
    return Translated(text, [adapt(v) for v in picked])


def adapt(value: Any) -> Any:
    """A parameter as SQLite would store it: ``True``/``False`` as 1/0 (the columns are
    integers on both backends)."""
    if isinstance(value, bool):
        return int(value)
    return value


@dataclass(frozen=True)
class Insert:
    """A plain ``INSERT INTO table [(columns)] VALUES|SELECT …``."""

    table: str
    columns: tuple[str, ...]
    returning: bool


def plain_insert(sql: str) -> Insert | None:
    """What ``sql`` inserts into, when it is one plain INSERT statement (else None)."""
    m = _INSERT.match(sql)
    if m is None:
        return None
    code = " ".join(piece for is_code, piece in scan(sql) if is_code)
    if ";" in code.rstrip().rstrip(";"):
        return None
    cols = tuple(c.strip().strip('"[]`') for c in (m.group(2) or "").split(",") if c.strip())
    return Insert(m.group(1).strip('"'), cols, bool(_RETURNING.search(code)))


def with_returning_id(sql: str) -> str:
    """``sql`` (a plain INSERT without RETURNING) returning the ids it inserted."""
    pieces = scan(sql)
    while pieces and (
        (pieces[-1][0] and not pieces[-1][1].strip().rstrip(";").strip())
        or pieces[-1][1].startswith(("--", "/*"))
    ):
        pieces.pop()  # trailing comments, blanks and semicolons
    body = "".join(text for _code_, text in pieces).rstrip()
    return body.rstrip(";").rstrip() + "\nRETURNING id"
