"""Identity documents, dates and field checks: pure functions, no I/O.

PRC resident ID numbers (GB 11643-1999) have 18 characters: a 6-digit region code
whose first two digits are the province, the date of birth as YYYYMMDD, a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from enum import StrEnum

from ..errors import Invalid


class RecordError(Invalid, ValueError):
    """A field of a record is invalid; the message names the field and the problem."""

    def __init__(self, field: str, problem: str) -> None:
        super().__init__(f"{field}: {problem}")
        self.field = field
        self.problem = problem


class IdType(StrEnum):
    """Kinds of identity document accepted for a person."""

    PRC_ID = "prc_id"
    PASSPORT = "passport"
    HK_MACAO_PERMIT = "hk_macao_permit"
    TAIWAN_PERMIT = "taiwan_permit"
    FOREIGN_PERMANENT_ID = "foreign_permanent_id"


#: Province-level codes (first two digits of a PRC ID) → province name (English).
PROVINCES: dict[str, str] = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia",
    "21": "Liaoning", "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu",
    "33": "Zhejiang", "34": "Anhui", "35": "Fujian", "36": "Jiangxi", "37": "Shandong",
    "41": "Henan", "42": "Hubei", "43": "Hunan", "44": "Guangdong", "45": "Guangxi",
    "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou", "53": "Yunnan",
    "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia",
    "65": "Xinjiang",
}  # fmt: skip

_WEIGHTS = [pow(2, 17 - i, 11) for i in range(17)]
_CHECK = "10X98765432"
_PRC_RE = re.compile(r"^\d{17}[\dX]$")
_DOC_RE = re.compile(r"^[A-Z0-9]{5,20}$")
_SEP_RE = re.compile(r"[\s\-]")

MAX_NAME = 100
MAX_ADDRESS = 300
MAX_TEXT = 4000
MAX_SHORT = 100


def prc_check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character for 17 digits."""
    return _CHECK[sum(int(c) * w for c, w in zip(first17, _WEIGHTS, strict=True)) % 11]


def normalise_id(id_type: IdType | str, number: str) -> str:
    """Upper-case, strip spaces and dashes (full-width forms folded first)."""
    s = unicodedata.normalize("NFKC", str(number))
    return _SEP_RE.sub("", s).upper()


def validate_id(
    id_type: IdType | str, number: str, *, today: dt.date | None = None
) -> tuple[IdType, str]:
    """Return (type, normalised number) or raise RecordError saying what is wrong."""
    try:
        kind = IdType(id_type)
    except ValueError:
        raise RecordError(
            "id_type", f"unknown document type {str(id_type)[:40]!r}; one of {_types()}"
        ) from None
    if not isinstance(number, str) or len(number) > 40:
        raise RecordError("id_number", "must be a string of at most 40 characters")
    n = normalise_id(kind, number)
    if kind is IdType.PRC_ID:
        if len(n) == 15:
            raise RecordError(
                "id_number", "15-digit IDs (before 1999) must be converted to 18 digits"
            )
        if not _PRC_RE.match(n):
            raise RecordError("id_number", "a PRC ID has 17 digits and a check digit (0-9 or X)")
        if n[:2] not in PROVINCES:
            raise RecordError("id_number", f"region code {n[:6]} is not a PRC province")
        birth = prc_birth_date(n)
        if birth is None:
            raise RecordError("id_number", f"contains an impossible birth date {n[6:14]}")
        if birth > (today or dt.date.today()) or birth.year < 1900:
            raise RecordError("id_number", f"birth date {birth} is out of range")
        if prc_check_char(n[:17]) != n[17]:
            raise RecordError("id_number", "check digit does not match (mistyped number?)")
        return kind, n
    if not _DOC_RE.match(n) or not any(c.isdigit() for c in n):
        raise RecordError(
            "id_number", f"a {kind.value} number has 5-20 letters/digits incl. at least one digit"
        )
    return kind, n


def prc_birth_date(n: str) -> dt.date | None:
    """Birth date embedded in an 18-digit PRC ID, or None when impossible."""
    try:
        return dt.date(int(n[6:10]), int(n[10:12]), int(n[12:14]))
    except ValueError:
        return None


def prc_sex(n: str) -> str:
    """'M' or 'F' from the sequence digit of a PRC ID."""
    return "M" if int(n[16]) % 2 else "F"


def mask_id(number: str | None) -> str | None:
    """The form shown in list views: first 4 and last 2 characters, the rest starred."""
    if not number:
        return None
    if len(number) <= 6:
        return number[0] + "*" * (len(number) - 1)
    return number[:4] + "*" * (len(number) - 6) + number[-2:]


def parse_date(field: str, value: object, *, allow_future: bool = True) -> dt.date:
    """A strict ISO date (YYYY-MM-DD); impossible dates such as 2023-02-30 are refused."""
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        d = value
    else:
        s = str(value).strip()
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", s):
            raise RecordError(field, f"{s[:30]!r} is not a date YYYY-MM-DD")
        try:
            d = dt.date.fromisoformat(s)
        except ValueError:
            raise RecordError(field, f"{s} is an impossible date") from None
    if d.year < 1900:
        raise RecordError(field, f"{d} is before 1900")
    if not allow_future and d > dt.date.today():
        raise RecordError(field, f"{d} is in the future")
    return d


def parse_datetime(field: str, value: object) -> dt.datetime:
    """An ISO date-time; naive values are taken as UTC."""
    if isinstance(value, dt.datetime):
        t = value
    else:
        s = str(value).strip()
        try:
            t = dt.datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            raise RecordError(field, f"{s[:40]!r} is not an ISO date-time") from None
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def clean_text(field: str, value: object, max_len: int, *, required: bool = True) -> str | None:
    """Strip control characters and whitespace; refuse empty (when required) or oversized."""
    if value is None or (isinstance(value, str) and not value.strip()):
        if required:
            raise RecordError(field, "is required")
        return None
    s = "".join(ch for ch in str(value) if unicodedata.category(ch)[0] != "C" or ch == " ")
    s = " ".join(s.split())
    if len(s) > max_len:
        raise RecordError(field, f"is {len(s)} characters long; the limit is {max_len}")
    if required and not s:
        raise RecordError(field, "is required")
    return s or None


def clean_name(value: object) -> str:
    """A person's name: 1-100 characters containing at least one letter."""
    s = clean_text("name", value, MAX_NAME)
    assert s is not None
    if not any(ch.isalpha() for ch in s):
        raise RecordError("name", "must contain letters")
    return s


def clean_phone(value: object) -> str | None:
    """Digits with an optional leading +, 5-20 long; None when absent."""
    if value is None or str(value).strip() == "":
        return None
    s = re.sub(r"[\s\-()]", "", unicodedata.normalize("NFKC", str(value)))
    if not re.fullmatch(r"\+?\d{5,20}", s):
        raise RecordError("phone", "must be 5-20 digits with an optional leading +")
    return s


def clean_country(field: str, value: object) -> str:
    """An ISO 3166-1 alpha-2 country code, upper-cased."""
    s = str(value or "").strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", s):
        raise RecordError(field, "must be an ISO 3166 two-letter country code such as CN")
    return s


def clean_zone(value: object) -> str:
    """A zone id: 1-32 of A-Z a-z 0-9 _ -."""
    s = str(value or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,32}", s):
        raise RecordError("zone", "must be 1-32 letters, digits, _ or -")
    return s


def _types() -> str:
    return ", ".join(t.value for t in IdType)


#: A run of 7+ digits (an ID number, or most of one) in a reason is masked.
_DIGITS = re.compile(r"\d{7,}[0-9Xx]?")


def redact(reason: str, values: list[str] | None = None) -> str:
    """``reason`` with every field value of the row, and any long run of digits, masked."""
    for v in sorted(values or [], key=len, reverse=True):
        if v and len(v) >= 4 and v in reason:
            reason = reason.replace(v, mask_id(v) or "")
    return _DIGITS.sub(lambda m: mask_id(m.group()) or "", reason)


#: The city's own household-registration place (GB/T 2260 code of Yiwu, Zhejiang): a
#: person whose hukou is registered here (or in a place under it) is local, others migrants.
CITY_HUKOU_CODE = "330782"
_HUKOU_RE = re.compile(r"^\d{6}$")


class Hukou(StrEnum):
    """A resident's household-registration status (foreign nationals hold none)."""

    LOCAL = "local"
    MIGRANT = "migrant"
    NONE = "none"


def clean_hukou_place(value: object) -> str | None:
    """A 6-digit administrative division code (GB/T 2260) of a PRC province, or None."""
    if value is None or value == "":
        return None
    s = unicodedata.normalize("NFKC", str(value)).strip()
    if not _HUKOU_RE.match(s) or s[:2] not in PROVINCES:
        raise RecordError("hukou_place", "is a 6-digit area code of a PRC province (e.g. 330782)")
    return s


def hukou_status(place: str | None, id_type: str | None, nationality: str | None) -> str:
    """Local when the hukou place is the city's, migrant for another PRC place (or a PRC
    national whose place is not yet recorded), none for a foreign national."""
    if nationality not in (None, "CN") and id_type != IdType.PRC_ID.value:
        return Hukou.NONE.value
    if place is not None and place.startswith(CITY_HUKOU_CODE):
        return Hukou.LOCAL.value
    return Hukou.MIGRANT.value


def document_country(id_type: str, nationality: str | None) -> str:
    """The issuing country of a document: a passport's is the holder's nationality, every
    other accepted document is issued by the PRC (the key of "one document, one person")."""
    return (nationality or "??") if id_type == IdType.PASSPORT.value else "CN"
