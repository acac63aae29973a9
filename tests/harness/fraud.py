"""Fraud test data: the actors' headers and a company with every kind of identifier."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Actors:
    """Headers per actor."""

    inv1: dict[str, str]
    inv2: dict[str, str]
    m1: dict[str, str]
    m2: dict[str, str]
    operator: dict[str, str]


GREEN_AIRLINE = {
    "names": ["Green Airline Trading Co., Ltd.", "绿航贸易有限公司"],
    "phones": ["+86 138-0013-8000"],
    "contacts": ["王小明"],
    "emails": ["sales@greenairline.com"],
    "addresses": ["No. 12 Chouzhou Road, Room 501, Yiwu"],
    "reg_codes": ["91330782MA2K12345X"],
    "founded": "2021-03-01",
}
