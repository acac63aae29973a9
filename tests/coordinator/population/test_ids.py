"""ID documents, dates and field checks (pure functions, literal inputs)."""

from __future__ import annotations

import contextlib
import datetime as dt
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator.population.ids import (
    RecordError,
    clean_text,
    mask_id,
    parse_date,
    prc_check_char,
    validate_id,
)
from devtools.population_data import prc_id

# A textbook example number (GB 11643 sample, not a real person).
GOOD = "11010519491231002X"


def test_known_prc_id_is_valid_and_normalised():
    assert validate_id("prc_id", " 110105 19491231 002x ") == (validate_id("prc_id", GOOD)[0], GOOD)
    assert prc_check_char(GOOD[:17]) == "X"


@pytest.mark.parametrize(
    "number,problem",
    [
        ("110105194912310021", "check digit"),  # last digit mistyped
        ("110105194902300028", "impossible birth date"),  # 30 February
        ("110105194913010020", "impossible birth date"),  # month 13
        ("990105194912310021", "not a PRC province"),  # region 99
        ("110105299912310020", "out of range"),  # born in 2999
        ("11010519491231002", "17 digits"),  # too short
        ("11010519491231002A", "17 digits"),  # letter other than X
        ("110105491231002", "15-digit"),  # old format
        ("", "17 digits"),
    ],
)
def test_invalid_prc_ids_are_refused_with_the_reason(number, problem):
    with pytest.raises(RecordError, match=problem):
        validate_id("prc_id", number)


@pytest.mark.parametrize(
    "kind,number,ok",
    [
        ("passport", "E12345678", True),
        ("passport", "e1234-5678", True),
        ("passport", "ABCDEFGH", False),  # no digit
        ("passport", "E1", False),  # too short
        ("passport", "E1234567890123456789012", False),  # too long
        ("passport", "E123;DROP", False),
        ("hk_macao_permit", "H12345678", True),
        ("driving_licence", "123456", False),  # unknown document type
    ],
)
def test_other_documents(kind, number, ok):
    if ok:
        assert validate_id(kind, number)[1].isalnum()
    else:
        with pytest.raises(RecordError):
            validate_id(kind, number)


@given(
    st.sampled_from(["11", "33", "36", "52", "65"]),
    st.dates(dt.date(1900, 1, 1), dt.date(2020, 12, 31)),
    st.sampled_from("MF"),
    st.integers(0, 2**32),
)
def test_generated_ids_validate_and_any_single_digit_change_is_caught(prov, born, sex, seed):
    n = prc_id(random.Random(seed), prov, born, sex)
    assert validate_id("prc_id", n)[1] == n
    i = seed % 17
    mutated = n[:i] + str((int(n[i]) + 1 + seed % 9) % 10) + n[i + 1 :]
    if mutated != n:
        with pytest.raises(RecordError):
            validate_id("prc_id", mutated)


@given(st.text(max_size=60))
def test_validate_id_never_raises_anything_but_record_error(s):
    with contextlib.suppress(RecordError):
        validate_id("prc_id", s)


@pytest.mark.parametrize("value", ["2023-02-29", "2024-04-31", "2024-13-01", "1899-12-31",
                                   "31/12/2020", "2020-1-1", "yesterday"])  # fmt: skip
def test_impossible_or_malformed_dates_are_refused(value):
    with pytest.raises(RecordError, match="date|1900"):
        parse_date("dob", value)


def test_leap_day_is_a_possible_date():
    assert parse_date("dob", "2024-02-29") == dt.date(2024, 2, 29)


def test_masking_keeps_only_the_ends():
    assert mask_id(GOOD) == "1101************2X"
    assert mask_id("E1234") == "E****"
    assert mask_id(None) is None


def test_oversized_and_control_characters():
    with pytest.raises(RecordError, match="limit is 10"):
        clean_text("address", "x" * 11, 10)
    assert clean_text("address", "a\x00b\u200b  c\n", 10) == "ab c"
