"""Name spellings, the FTS5 query builder (escaping) and fuzzy duplicate scores."""

from __future__ import annotations

import sqlite3

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator.population.names import (
    NameRecord,
    QueryError,
    duplicate_score,
    fts_query,
    index_text,
    latin_name,
    match_key,
)


def test_latin_spellings_of_chinese_names():
    assert latin_name("王芳") == "wang fang"
    assert latin_name("欧阳小芳") == "ouyang xiaofang"
    assert latin_name("Müller-Lüdenscheidt") == "muller ludenscheidt"
    assert match_key("王芳") == match_key("Fang Wang") == "fangwang"
    assert index_text("王芳") == "^王芳$ ^wangfang$ ^fangwang$"


@pytest.mark.parametrize(
    "raw,expected",
    [
        ("王芳", '"^王芳" OR "王芳$"'),
        ("王小芳", '"王小芳"'),
        ("Wang Fang", '"wangfang"'),
        ('王" OR "1', '"王""or""1"'),  # quotes doubled: searched as text
    ],
)
def test_query_building(raw, expected):
    assert fts_query(raw) == expected


@pytest.mark.parametrize("raw", ["", "王", "  ", "^$", "!!", "x" * 101])
def test_unsearchable_queries_are_refused(raw):
    with pytest.raises(QueryError):
        fts_query(raw)


@given(st.text(max_size=100))
def test_any_input_gives_a_query_fts5_accepts(raw):
    """Whatever an officer types, FTS5 parses the built query (no syntax reaches it)."""
    try:
        q = fts_query(raw)
    except QueryError:
        return
    db = sqlite3.connect(":memory:")
    db.execute("create virtual table t using fts5(text, tokenize='trigram', content='')")
    db.execute("insert into t(rowid, text) values (1, '^王芳$ ^wangfang$')")
    db.execute("select rowid from t where t match ?", [q]).fetchall()


def test_duplicate_scores():
    a = NameRecord("王芳", "wang fang", "1990-05-01", "Jiangxi")
    same_latin_order = NameRecord("Fang Wang", "fang wang", "1990-05-01", "Jiangxi")
    typo_dob = NameRecord("王芳", "wang fang", "1990-05-07", "Jiangxi")
    swapped = NameRecord("王芳", "wang fang", "1990-01-05", "Jiangxi")
    other = NameRecord("李强", "li qiang", "1990-05-01", "Jiangxi")
    homophone = NameRecord("王方", "wang fang", "1990-05-01", "Jiangxi")
    # same surname, same day, same province, different given name: two people
    namesake = NameRecord("王强", "wang qiang", "1990-05-01", "Jiangxi")
    assert duplicate_score(a, homophone)[0] >= 0.8
    assert duplicate_score(a, namesake)[0] < 0.8
    assert duplicate_score(a, same_latin_order)[0] == 1.0
    assert 0.8 <= duplicate_score(a, typo_dob)[0] < 1.0
    assert 0.8 <= duplicate_score(a, swapped)[0] < 1.0
    assert duplicate_score(a, other)[0] < 0.8
