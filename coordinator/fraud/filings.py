"""Merchants' trade filings, payments, automatic overdue detection, and tips.

Input models validate what merchants send (amounts, currencies, dates) with one readable
sentence per problem; the write functions run on the writer thread.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from decimal import Decimal
from typing import Any

import sqlite_utils
from pydantic import BaseModel, ConfigDict, Field, field_validator

from ..errors import Conflict, Invalid, NotFound

#: Conversion to CNY for risk amounts (indicative; the filing keeps its own currency).
CNY_RATE = {
    "CNY": 1.0,
    "USD": 7.1,
    "EUR": 7.7,
    "GBP": 9.0,
    "AED": 1.93,
    "RUB": 0.08,
    "INR": 0.085,
    "BRL": 1.3,
    "NGN": 0.0046,
    "HKD": 0.91,
}
MAX_AMOUNT_CNY = 10_000_000_000  # ¥10 bn: above this a filing is a typo, not a trade
MAX_FUTURE_DAYS = 3 * 365
MAX_PAST_DAYS = 5 * 365


class CompanyIn(BaseModel):
    """A company as a merchant or investigator knows it: every identifier they were given."""

    model_config = ConfigDict(extra="forbid")

    names: list[str] = Field(min_length=1, max_length=10, description="Chinese and Latin names")
    phones: list[str] = Field(default=[], max_length=20)
    emails: list[str] = Field(default=[], max_length=20)
    domains: list[str] = Field(default=[], max_length=20)
    addresses: list[str] = Field(default=[], max_length=10)
    contacts: list[str] = Field(default=[], max_length=10, description="Contact people")
    bank_accounts: list[str] = Field(default=[], max_length=10)
    reg_codes: list[str] = Field(default=[], max_length=5, description="Registration codes")
    founded: dt.date | None = Field(None, description="Registration date, if known")

    def pairs(self) -> list[tuple[str, str]]:
        """(kind, raw) pairs for the normaliser."""
        out = []
        for kind, values in (
            ("name", self.names),
            ("phone", self.phones),
            ("email", self.emails),
            ("domain", self.domains),
            ("address", self.addresses),
            ("contact", self.contacts),
            ("bank", self.bank_accounts),
            ("reg_code", self.reg_codes),
        ):
            out += [(kind, v) for v in values]
        return out


class FilingIn(BaseModel):
    """A trade filing: against a known company (``company_id``) or a new one (``company``)."""

    model_config = ConfigDict(extra="forbid")

    company_id: int | None = Field(None, description="A company already registered")
    company: CompanyIn | None = Field(None, description="Or the identifiers of a new company")
    goods: str = Field(min_length=1, max_length=500)
    quantity: int = Field(gt=0, le=1_000_000_000)
    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2, description="Order value")
    currency: str = Field("CNY", min_length=3, max_length=3)
    due_date: dt.date = Field(description="Agreed payment date (YYYY-MM-DD)")
    documents: list[str] = Field(default=[], max_length=50, description="Contract/invoice refs")

    @field_validator("currency")
    @classmethod
    def _currency(cls, v: str) -> str:
        v = v.upper()
        if v not in CNY_RATE:
            raise ValueError(f"currency {v} is not supported ({', '.join(sorted(CNY_RATE))})")
        return v


class PaymentIn(BaseModel):
    """A payment received on a filing."""

    model_config = ConfigDict(extra="forbid")

    amount: Decimal = Field(gt=0, max_digits=16, decimal_places=2)
    paid_on: dt.date


class TipIn(BaseModel):
    """A suspected-fraud report, with the metadata of its attachments (not the files)."""

    model_config = ConfigDict(extra="forbid")

    company_id: int | None = None
    identifiers: dict[str, str] = Field(
        default={}, max_length=20, description="What the reporter knows"
    )
    text: str = Field(min_length=3, max_length=5000)
    attachments: list[dict[str, str | int]] = Field(
        default=[], max_length=20, description="name, mime type, size, sha256 of each file"
    )


def check_filing(f: FilingIn, today: dt.date) -> int:
    """Business checks pydantic cannot express; returns the amount in CNY cents."""
    if (f.company_id is None) == (f.company is None):
        raise Invalid("give exactly one of company_id (known company) or company (new one)")
    cny = float(f.amount) * CNY_RATE[f.currency]
    if cny > MAX_AMOUNT_CNY:
        raise Invalid(f"amount {f.amount} {f.currency} is absurd (over ¥{MAX_AMOUNT_CNY:,})")
    if f.due_date > today + dt.timedelta(days=MAX_FUTURE_DAYS):
        raise Invalid(f"due date {f.due_date} is more than {MAX_FUTURE_DAYS} days ahead")
    if f.due_date < today - dt.timedelta(days=MAX_PAST_DAYS):
        raise Invalid(f"due date {f.due_date} is more than {MAX_PAST_DAYS} days ago")
    return round(cny * 100)


def insert_filing(
    db: sqlite_utils.Database, merchant_id: str, cid: int, f: FilingIn, cny_cents: int
) -> int:
    """Store a checked filing; returns its id."""
    return int(
        db.table("fraud_filings")  # type: ignore[arg-type]
        .insert(
            {
                "merchant_id": merchant_id,
                "company_id": cid,
                "goods": f.goods,
                "quantity": f.quantity,
                "amount_cents": int(f.amount * 100),
                "currency": f.currency,
                "amount_cny_cents": cny_cents,
                "due_date": f.due_date.isoformat(),
                "documents": json.dumps(f.documents, ensure_ascii=False),
                "status": "open",
                "filed_ts": time.time(),
            }
        )
        .last_pk
    )


def own_filing(db: Any, merchant_id: str | None, fid: int) -> dict[str, Any]:
    """A filing of this merchant; NotFound for others' filings (their existence is not revealed)."""
    rows = list(db.query("SELECT * FROM fraud_filings WHERE id = ?", [fid]))
    if not rows or (merchant_id is not None and rows[0]["merchant_id"] != merchant_id):
        raise NotFound(f"no filing {fid} of yours")
    return rows[0]


def add_payment(db: sqlite_utils.Database, merchant_id: str, fid: int, p: PaymentIn) -> dict:
    """Record a payment; a fully paid filing becomes 'paid' (even after being overdue)."""
    row = own_filing(db, merchant_id, fid)
    cents = int(p.amount * 100)
    if row["paid_cents"] + cents > row["amount_cents"]:
        raise Invalid(
            f"payment of {p.amount} would exceed the amount still due "
            f"({(row['amount_cents'] - row['paid_cents']) / 100:.2f} {row['currency']})"
        )
    if p.paid_on > dt.date.today() + dt.timedelta(days=1):
        raise Invalid(f"payment date {p.paid_on} is in the future")
    db.table("fraud_payments").insert(
        {
            "filing_id": fid,
            "amount_cents": cents,
            "paid_on": p.paid_on.isoformat(),
            "ts": time.time(),
        }
    )
    paid = row["paid_cents"] + cents
    status = "paid" if paid >= row["amount_cents"] else row["status"]
    db.execute(
        "UPDATE fraud_filings SET paid_cents = ?, status = ?, needs_confirmation = "
        "CASE WHEN ? = 'paid' THEN 0 ELSE needs_confirmation END WHERE id = ?",
        [paid, status, status, fid],
    )
    return dict(row, paid_cents=paid, status=status)


def confirm_overdue(db: sqlite_utils.Database, merchant_id: str, fid: int, unpaid: bool) -> str:
    """The merchant answers the overdue prompt: still unpaid (confirmed) or a mistake."""
    row = own_filing(db, merchant_id, fid)
    if row["status"] != "overdue":
        raise Conflict(f"filing {fid} is {row['status']}, not awaiting an overdue confirmation")
    status = "confirmed_overdue" if unpaid else "disputed"
    db.execute(
        "UPDATE fraud_filings SET status = ?, needs_confirmation = 0, confirmed_ts = ? "
        "WHERE id = ?",
        [status, time.time(), fid],
    )
    return status


def sweep_overdue(db: sqlite_utils.Database, today: dt.date) -> list[int]:
    """Mark open filings past their due date and not fully paid as overdue; return companies."""
    rows = db.execute(
        "SELECT id, company_id FROM fraud_filings WHERE status = 'open' AND due_date < ? "
        "AND paid_cents < amount_cents",
        [today.isoformat()],
    ).fetchall()
    if rows:
        db.execute(
            "UPDATE fraud_filings SET status = 'overdue', needs_confirmation = 1, overdue_ts = ? "
            f"WHERE id IN ({','.join('?' * len(rows))})",
            [time.time(), *[r[0] for r in rows]],
        )
    return sorted({r[1] for r in rows})
