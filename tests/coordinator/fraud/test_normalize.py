"""Identifiers in every format merchants type normalise to one key; bad ones get a sentence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from coordinator.fraud import normalize as n
from coordinator.fraud.normalize import IdentifierError, Kind


@pytest.mark.parametrize(
    "typed",
    [
        "+86 138-0013-8000",
        "0086 13800138000",
        "008613800138000",
        "138 0013 8000",
        "13800138000",
        "+86 (0)138 0013 8000",
        "８６１３８００１３８０００",  # full-width, with country code
        "+86-138-0013-8000 ext. 12",
        "86 138 0013 8000",
    ],
)
def test_mobile_phone_formats_agree(typed: str) -> None:
    """Every way of typing one Chinese mobile gives its E.164 key."""
    assert n.phone(typed) == "+8613800138000"


@pytest.mark.parametrize(
    "typed", ["0579-8512 3456", "(0579) 85123456", "+86 579 8512 3456", "0086 579 85123456"]
)
def test_landline_formats_agree(typed: str) -> None:
    """Landlines with the trunk 0, brackets, or the country code agree."""
    assert n.phone(typed) == "+8657985123456"


@pytest.mark.parametrize("bad", ["12", "call me", "+1 23", "", "1234567890123456789"])
def test_bad_phones_are_refused_with_a_reason(bad: str) -> None:
    """Too short, letters, too long: IdentifierError naming the input."""
    with pytest.raises(IdentifierError, match="phone"):
        n.phone(bad)


@pytest.mark.parametrize(
    "typed",
    [
        "Sales@LvHang.com",
        " sales@lvhang.com ",
        "mailto:sales@lvhang.com",
        "sales [at] lvhang.com",
        "sales (at) lvhang (dot) com",
        "sales at lvhang dot com",
        "SALES@WWW.LVHANG.COM",
    ],
)
def test_email_formats_agree(typed: str) -> None:
    """Case, spaces, mailto:, [at]/(dot) obfuscations, www. all agree."""
    assert n.email(typed) == "sales@lvhang.com"


@pytest.mark.parametrize("bad", ["no-at-sign", "a@@b.com", "@lvhang.com", "a@nodot"])
def test_bad_emails_are_refused(bad: str) -> None:
    """Malformed e-mails are refused, not stored half-right."""
    with pytest.raises(IdentifierError):
        n.email(bad)


@pytest.mark.parametrize(
    "typed",
    ["https://www.LvHang.com/about?x=1", "lvhang.com", "http://lvhang.com:8080", "WWW.LVHANG.COM."],
)
def test_domain_formats_agree(typed: str) -> None:
    """Scheme, www., port, path, case and the trailing dot are dropped."""
    assert n.domain(typed) == "lvhang.com"


def test_free_mail_domains_are_not_evidence() -> None:
    """An e-mail at qq.com yields no domain key (millions share it); a company domain does."""
    assert n.keys_for("email", "li@qq.com") == [(Kind.EMAIL, "li@qq.com")]
    assert (Kind.DOMAIN, "lvhang.com") in n.keys_for("email", "li@lvhang.com")


@pytest.mark.parametrize(
    "typed",
    [
        "义乌绿航贸易有限公司",
        "Lvhang Trading Co., Ltd.",
        "LÜ HANG TRADING LIMITED",
        "Lu:hang Import & Export Co., Ltd",
        "lv-hang international trade co. ltd",
        "绿航进出口有限公司",
    ],
)
def test_company_name_noise_and_transliteration(typed: str) -> None:
    """Suffix noise (Co., Ltd., 有限公司, Trading), script, ü spellings and spacing agree."""
    assert n.company_name(typed) == "lvhang"


@pytest.mark.parametrize(
    "typed",
    [
        "王小明",
        "Wang Xiaoming",
        "Xiaoming WANG",
        "Xiao Ming Wang",
        "Mr. Wang Xiao Ming",
        "王小明先生",
    ],
)
def test_contact_person_orders_share_a_key(typed: str) -> None:
    """Family name first or last, given name split or joined, Han or pinyin: a key in common."""
    assert "wangxiaoming" in n.person_keys(typed)


@pytest.mark.parametrize(
    "a,b",
    [
        (
            "No. 12 Chouzhou Road, Room 501, Yiwu",
            "ROOM 501, 12 CHOUZHOU RD., YIWU, Zhejiang, China",
        ),
        ("Rm 501 No.12 Chouzhou Rd Yiwu City", "12 Chouzhou Road Room 501 Yiwu"),
    ],
)
def test_address_forms_agree(a: str, b: str) -> None:
    """Abbreviations, order, province/country and punctuation do not matter."""
    assert n.address(a) == n.address(b)


@pytest.mark.parametrize(
    "typed", ["6222 0212 3456 7890 123", "6222-0212-3456-7890-123", "6222021234567890123"]
)
def test_bank_account_formats_agree(typed: str) -> None:
    """Spaces and dashes in account numbers are dropped."""
    assert n.bank_account(typed) == "6222021234567890123"


def test_iban_and_registration_codes() -> None:
    """IBANs upper-cased; registration codes with separators agree; garbage refused."""
    assert n.bank_account("de89 3704 0044 0532 0130 00") == "DE89370400440532013000"
    assert n.reg_code("9133 0782-MA2K 1234 5X") == "91330782MA2K12345X"
    with pytest.raises(IdentifierError):
        n.reg_code("12")
    with pytest.raises(IdentifierError):
        n.bank_account("not an account!!")


def test_guess_keys_reads_any_identifier() -> None:
    """A merchant types anything: the lookup tries every kind it could be."""
    assert (Kind.PHONE, "+8613800138000") in n.guess_keys("+86 138 0013 8000")
    assert (Kind.EMAIL, "sales@lvhang.com") in n.guess_keys("Sales@LvHang.com")
    assert (Kind.DOMAIN, "lvhang.com") in n.guess_keys("www.lvhang.com")
    assert (Kind.NAME, "lvhang") in n.guess_keys("绿航贸易有限公司")


@given(st.sampled_from(list(Kind)), st.text(max_size=80))
def test_normalisers_raise_only_identifier_error(kind: Kind, raw: str) -> None:
    """Whatever a merchant types, the result is a key or IdentifierError — never a crash."""
    try:
        keys = n.keys_for(kind, raw)
    except IdentifierError:
        return
    assert all(isinstance(v, str) and v for _, v in keys)


@given(st.text(max_size=80))
def test_guess_keys_never_crashes(q: str) -> None:
    """The merchants' lookup parser faces the network: it returns a list for any text."""
    assert isinstance(n.guess_keys(q), list)


@given(
    st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True),
    st.sampled_from(["+86 ", "0086", "", "86"]),
    st.sampled_from(["", " ", "-"]),
)
def test_phone_key_is_format_independent(mobile: str, prefix: str, sep: str) -> None:
    """Any prefix and separator of a mobile number gives the same key."""
    typed = prefix + sep.join([mobile[:3], mobile[3:7], mobile[7:]])
    assert n.phone(typed) == "+86" + mobile
