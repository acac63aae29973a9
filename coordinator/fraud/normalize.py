"""Normalising the identifiers merchants type, in every format they type them.

Pure functions: one raw string in, one canonical key out (or :class:`IdentifierError` with a
sentence saying what was wrong). Two spellings of the same phone, e-mail, address, bank
account, registration code, company or person name give the same key; the linker only ever
compares keys, so the same normaliser must be used when storing and when looking up.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from enum import StrEnum

from pypinyin import lazy_pinyin


class Kind(StrEnum):
    """Kinds of company identifier, from strongest evidence to weakest."""

    REG_CODE = "reg_code"
    BANK = "bank"
    EMAIL = "email"
    PHONE = "phone"
    DOMAIN = "domain"
    CONTACT = "contact"
    ADDRESS = "address"
    NAME = "name"


class IdentifierError(ValueError):
    """A raw identifier that cannot be normalised (the message says why)."""


_HAN = re.compile(r"[\u3400-\u9fff]")
# Chinese company-form and trade words: removed before transliteration so that
# "义乌绿航贸易有限公司" and "Lvhang Trading Co., Ltd." meet on "lvhang".
_CN_NOISE = (
    "有限责任公司",
    "股份有限公司",
    "有限公司",
    "进出口",
    "贸易",
    "商贸",
    "国际",
    "集团",
    "公司",
    "商行",
    "工贸",
    "实业",
    "科技",
    "义乌市",
    "义乌",
)
_LATIN_NOISE = frozenset(
    [
        "co",
        "company",
        "corp",
        "corporation",
        "inc",
        "incorporated",
        "ltd",
        "limited",
        "llc",
        "plc",
        "gmbh",
        "sa",
        "srl",
        "bv",
        "trading",
        "trade",
        "traders",
        "import",
        "export",
        "imp",
        "exp",
        "impexp",
        "intl",
        "international",
        "group",
        "industrial",
        "industry",
        "industries",
        "enterprise",
        "enterprises",
        "commercial",
        "holdings",
        "yiwu",
        "the",
        "and",
        "of",
    ]
)


def _fold(text: str) -> str:
    """NFKC (full-width digits/letters → ASCII), ü → v (pinyin habit), strip accents, casefold."""
    text = unicodedata.normalize("NFKC", text)
    if text.isascii():  # the common case: nothing to decompose
        return text.replace("u:", "v").replace("U:", "v").lower()
    text = text.replace("ü", "v").replace("Ü", "v").replace("u:", "v").replace("U:", "v")
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@functools.lru_cache(maxsize=65536)  # names and contacts repeat; pypinyin is the slow step
def _han_to_pinyin(text: str) -> str:
    """Han characters → toneless pinyin syllables separated by spaces; other text kept."""
    if not _HAN.search(text):
        return text
    return " ".join(lazy_pinyin(text, errors=lambda s: " ".join(s)))


def _tokens(text: str) -> list[str]:
    return re.findall(r"[a-z0-9]+", text)


def company_name(raw: str) -> str:
    """Company name key: script, case, accents, spacing and legal-suffix noise removed.

    "Lü Hang Trading Co., Ltd.", "LVHANG TRADING LIMITED" and "义乌绿航贸易有限公司" all give
    ``"lvhang"``. Tokens are joined without spaces because transliterations split syllables
    differently ("Xin Hua" / "Xinhua").
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text:
        raise IdentifierError("company name is empty")
    if _HAN.search(text):
        for noise in _CN_NOISE:
            text = text.replace(noise, " ")
    toks = _tokens(_fold(_han_to_pinyin(text)))
    kept = [t for t in toks if t not in _LATIN_NOISE]
    key = "".join(kept) or "".join(toks)
    if not key:
        raise IdentifierError(f"company name {raw!r} has no letters or digits")
    return key


_TITLES = re.compile(r"\b(?:mr|mrs|ms|miss|dr)\b\.?|先生|女士|经理|小姐", re.IGNORECASE)


def _person_tokens(raw: str) -> list[str]:
    text = unicodedata.normalize("NFKC", raw).strip()
    text = _TITLES.sub(" ", text)
    toks = _tokens(_fold(_han_to_pinyin(text)))
    if not toks:
        raise IdentifierError(f"contact name {raw!r} has no letters")
    return toks


def person_keys(raw: str) -> list[str]:
    """Every key of a contact person: the joined name rotated at each token boundary.

    Family and given names come in either order ("Wang Xiaoming", "Xiao Ming WANG", 王小明),
    and a given name is written split or joined. Han names are split per syllable and
    every rotation is a key, so each typed form shares at least one key with the others.
    """
    toks = _person_tokens(raw)
    return sorted({"".join(toks[i:] + toks[:i]) for i in range(len(toks))})


def person_name(raw: str) -> str:
    """Primary contact-person key (the smallest rotation; see :func:`person_keys`)."""
    return person_keys(raw)[0]


_EXT = re.compile(r"(ext\.?|extension|x|转|分机|#).*$", re.IGNORECASE)


def phone(raw: str) -> str:
    """E.164 phone key; Chinese numbers without a country code get +86.

    Accepts "+86 138-0013-8000", "0086 13800138000", "(0579) 8512 3456", "138 0013 8000",
    full-width digits, and extensions (dropped).
    """
    text = _EXT.sub("", unicodedata.normalize("NFKC", raw).strip())
    if re.search(r"[a-zA-Z]", text):
        raise IdentifierError(f"phone {raw!r} contains letters")
    plus = text.startswith("+")
    digits = re.sub(r"\D", "", text)
    if plus:
        e164 = digits
    elif digits.startswith("00"):
        e164 = digits[2:]
    elif len(digits) == 11 and digits.startswith("1"):
        e164 = "86" + digits  # Chinese mobile
    elif len(digits) == 13 and digits.startswith("861"):
        e164 = digits
    elif digits.startswith("0"):
        e164 = "86" + digits[1:]  # domestic trunk prefix + area code
    else:
        e164 = "86" + digits
    if e164.startswith("860"):
        e164 = "86" + e164[3:]  # "+86 (0)579 …": the trunk 0 is not dialled internationally
    if not 8 <= len(e164) <= 15:
        raise IdentifierError(f"phone {raw!r} has {len(digits)} digits, not a phone number")
    return "+" + e164


_FREE_MAIL = frozenset(
    [
        "gmail.com",
        "googlemail.com",
        "qq.com",
        "foxmail.com",
        "163.com",
        "126.com",
        "yeah.net",
        "sina.com",
        "sina.cn",
        "sohu.com",
        "aliyun.com",
        "hotmail.com",
        "outlook.com",
        "live.com",
        "yahoo.com",
        "yahoo.cn",
        "icloud.com",
        "mail.ru",
        "yandex.ru",
        "protonmail.com",
        "gmx.de",
        "aol.com",
        "139.com",
    ]
)


def domain(raw: str) -> str:
    """Domain key from a domain, URL or e-mail: lower-case, no scheme/www/port/path, IDNA."""
    text = unicodedata.normalize("NFKC", raw).strip().casefold()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.rsplit("@", 1)[-1]
    text = re.split(r"[/?#:]", text, maxsplit=1)[0].strip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")
    except UnicodeError:
        raise IdentifierError(f"domain {raw!r} is not a valid host name") from None
    if not re.fullmatch(r"[a-z0-9-]+(\.[a-z0-9-]+)+", text):
        raise IdentifierError(f"domain {raw!r} is not a valid host name")
    return text


def is_free_mail(dom: str) -> bool:
    """True for web-mail domains shared by millions (never evidence of a link)."""
    return dom in _FREE_MAIL


def email(raw: str) -> str:
    """E-mail key: "Sales@Example.COM", "sales [at] example.com", "mailto:…" all agree."""
    text = unicodedata.normalize("NFKC", raw).strip()
    text = re.sub(r"^mailto:", "", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*[\[(]\s*at\s*[\])]\s*|\s+at\s+", "@", text, flags=re.IGNORECASE)
    text = re.sub(r"\s*[\[(]\s*dot\s*[\])]\s*|\s+dot\s+", ".", text, flags=re.IGNORECASE)
    text = text.replace(" ", "").casefold()
    if text.count("@") != 1:
        raise IdentifierError(f"e-mail {raw!r} needs exactly one @")
    local, host = text.split("@")
    if not local or not re.fullmatch(r"[a-z0-9._%+\-]+", local):
        raise IdentifierError(f"e-mail {raw!r} has an invalid local part")
    return f"{local}@{domain(host)}"


_ADDR_ABBR = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "bldg": "building",
    "blk": "block",
    "flr": "floor",
    "fl": "floor",
    "rm": "room",
    "dist": "district",
    "no": "",
    "num": "",
    "prov": "province",
    "zhejiang": "",
    "china": "",
    "prc": "",
    "city": "",
}


def address(raw: str) -> str:
    """Address key: pinyin, abbreviations expanded, province/country dropped, tokens sorted.

    Sorting makes "Room 501, 12 Chouzhou Rd" equal "12 Chouzhou Road Room 501": merchants
    write the parts in either order.
    """
    text = unicodedata.normalize("NFKC", raw).strip()
    for cn, en in (
        ()
        if text.isascii()
        else (
            ("号", " "),
            ("室", " room "),
            ("楼", " floor "),
            ("路", " road "),
            ("街", " street "),
            ("区", " district "),
            ("省", " "),
            ("市", " "),
        )
    ):
        text = text.replace(cn, en)
    toks = [_ADDR_ABBR.get(t, t) for t in _tokens(_fold(_han_to_pinyin(text)))]
    toks = [t for t in toks if t]
    if len(toks) < 2:
        raise IdentifierError(f"address {raw!r} is too short to identify a place")
    return " ".join(sorted(toks))


def bank_account(raw: str) -> str:
    """Bank account key: digits (Chinese accounts) or upper-case IBAN, separators dropped."""
    text = re.sub(r"[\s\-./]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not re.fullmatch(r"[A-Z0-9]{8,34}", text):
        raise IdentifierError(f"bank account {raw!r} must be 8-34 letters or digits")
    if not any(c.isdigit() for c in text):
        raise IdentifierError(f"bank account {raw!r} has no digits")
    return text


def reg_code(raw: str) -> str:
    """Registration code key (unified social credit code or foreign registration number)."""
    text = re.sub(r"[\s\-./]", "", unicodedata.normalize("NFKC", raw)).upper()
    if not re.fullmatch(r"[A-Z0-9]{6,30}", text):
        raise IdentifierError(f"registration code {raw!r} must be 6-30 letters or digits")
    return text


NORMALISERS = {
    Kind.REG_CODE: reg_code,
    Kind.BANK: bank_account,
    Kind.EMAIL: email,
    Kind.PHONE: phone,
    Kind.DOMAIN: domain,
    Kind.CONTACT: person_name,
    Kind.ADDRESS: address,
    Kind.NAME: company_name,
}


def normalise(kind: Kind | str, raw: str) -> str:
    """Key of ``raw`` as an identifier of ``kind`` (raises :class:`IdentifierError`)."""
    if not isinstance(raw, str) or len(raw) > 500:
        raise IdentifierError(f"{kind} must be a string of at most 500 characters")
    return NORMALISERS[Kind(kind)](raw)


def keys_for(kind: Kind | str, raw: str) -> list[tuple[Kind, str]]:
    """All index keys one typed identifier yields (an e-mail also gives its domain)."""
    k = Kind(kind)
    if k is Kind.CONTACT:
        if not isinstance(raw, str) or len(raw) > 500:
            raise IdentifierError(f"{k} must be a string of at most 500 characters")
        return [(k, v) for v in person_keys(raw)]
    key = normalise(k, raw)
    out: list[tuple[Kind, str]] = [(k, key)]
    if k is Kind.EMAIL:
        dom = key.split("@", 1)[1]
        if not is_free_mail(dom):
            out.append((Kind.DOMAIN, dom))
    if k is Kind.DOMAIN and is_free_mail(key):
        return []
    return out


def guess_keys(query: str) -> list[tuple[Kind, str]]:
    """Every (kind, key) a free-text lookup could mean: a merchant types "any identifier"."""
    out: list[tuple[Kind, str]] = []
    q = query.strip()
    kinds: Iterable[Kind]
    if "@" in q or re.search(r"\[at\]|\(at\)", q, re.IGNORECASE):
        kinds = (Kind.EMAIL,)
    elif re.fullmatch(r"[\s+()\-\d０-９]+", q):
        kinds = (Kind.PHONE, Kind.BANK, Kind.REG_CODE)
    elif re.fullmatch(r"(https?://)?[\w-]+(\.[\w-]+)+/?\S*", q) and " " not in q:
        kinds = (Kind.DOMAIN, Kind.NAME)
    else:
        kinds = (Kind.REG_CODE, Kind.BANK, Kind.NAME, Kind.CONTACT, Kind.ADDRESS)
    for k in kinds:
        try:
            out.extend(keys_for(k, q))
        except IdentifierError:
            continue
    return list(dict.fromkeys(out))
