"""SQL kept portable where it costs nothing (docs/architecture.md): a server database comes
later, so the coordinator writes ``INSERT … ON CONFLICT`` (not ``INSERT OR REPLACE/IGNORE``),
uses no ``rowid`` outside SQLite's full-text index, and asks SQLite about its schema
(PRAGMA) only in ``platform/db.py``."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "coordinator"
DB_MODULE = PKG / "platform" / "db.py"
RULES = {
    "INSERT OR REPLACE/IGNORE (write INSERT … ON CONFLICT)": re.compile(
        r"insert\s+or\s+(replace|ignore)|\b(replace|ignore)\s*=\s*True", re.I
    ),
    "PRAGMA outside platform/db.py": re.compile(r"\bpragma(?!:\s*no cover)", re.I),
    "rowid outside SQLite's full-text index": re.compile(r"(?<!last)\browid\b", re.I),
}
#: Lines where rowid is inherent, by what they touch.
ROWID_ALLOWED = re.compile(r"_fts\b|rowid: FTS5|without rowid|\"without rowid\" is SQLite", re.I)


def test_the_rules_catch_what_they_should():
    assert RULES["INSERT OR REPLACE/IGNORE (write INSERT … ON CONFLICT)"].search(
        "INSERT OR IGNORE INTO t"
    )
    assert RULES["PRAGMA outside platform/db.py"].search("select * from pragma_table_info('t')")
    assert not RULES["PRAGMA outside platform/db.py"].search("x = 1  # pragma: no cover")
    assert not RULES["rowid outside SQLite's full-text index"].search("cur.lastrowid")


def test_coordinator_sql_is_portable_where_it_costs_nothing():
    wrong = []
    for path in sorted(PKG.rglob("*.py")):
        for n, line in enumerate(path.read_text().splitlines(), 1):
            for rule, pattern in RULES.items():
                if not pattern.search(line):
                    continue
                if path == DB_MODULE and rule.startswith("PRAGMA"):
                    continue
                if rule.startswith("rowid") and ROWID_ALLOWED.search(line):
                    continue
                wrong.append(f"{path.relative_to(ROOT)}:{n}: {rule}: {line.strip()}")
    assert not wrong, "\n".join(wrong)
