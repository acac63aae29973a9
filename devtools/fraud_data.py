"""A synthetic Yiwu market with ground truth, for tests, benchmarks and the demo, and its bulk
loader (``load_market``: write a whole generated market into an empty fraud database).

Entities are real-world companies; each yields one or more *records* as merchants typed
them. Ground truth: records of the same entity are aliases. The traps are all here:
duplicate records with transliteration variants and identifiers in other formats; vests
(a fraudulent company back under a new name and registration code, reusing two of its old
phone / e-mail / contact / address / bank account); unrelated companies with near-identical
names; logistics agents and a market hotline whose phone and address many unrelated
companies give. Deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import random
import time
from dataclasses import dataclass, field
from typing import Any

from pypinyin import lazy_pinyin

from coordinator.fraud.batch import re_resolve
from coordinator.fraud.linking import Key
from coordinator.fraud.normalize import IdentifierError, keys_for
from coordinator.fraud.profiles import uscc_check_char

_CORE = (
    "绿航星辰宏达鑫源恒泰华美金鼎瑞丰盛世佳联博创远通天和顺福安兴隆吉祥宝光明新海东方正大永昌德信荣"
)
_SUFFIX_CN = ["贸易有限公司", "进出口有限公司", "商贸有限公司", "国际贸易有限公司", "实业有限公司"]
_SUFFIX_EN = [
    "Trading Co., Ltd.",
    "Import & Export Co., Ltd",
    "International Trade Co. Ltd",
    "Trading Limited",
    "Industrial Co.,Ltd.",
    "Commercial Co., Ltd",
]
_FAMILY = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞宇浩然晨"
_ROADS = ["Chouzhou", "Futian", "Jiangbin", "Binwang", "Xuefeng", "Danxi", "Zongze", "Jiangdong"]
# Market booths: a trade name (two characters of _CORE), the goods, the kind of business.
_GOODS = ["日用百货", "小商品", "饰品", "玩具", "箱包", "针织", "五金", "工艺品", "文具", "袜业"]
_SHOP = ["商行", "经营部", "贸易商行", "商铺"]
_PY = {c: lazy_pinyin(c)[0] for c in _CORE + _FAMILY + _GIVEN}

KINDS_REUSED_BY_VESTS = ("phone", "email", "contact", "address", "bank")


@dataclass
class GenCompany:
    """One company record as typed by merchants, with its ground-truth entity."""

    id: int
    entity: int
    identifiers: list[tuple[str, str]]  # (kind, raw text)
    founded: dt.date
    fraudulent: bool = False
    vest_of: int | None = None  # record id of the company this one is a vest of
    checked: bool = False  # merchants filed trades with it: the platform checked it
    profile: dict[str, Any] | None = None  # its registry record, when an investigator entered it


@dataclass(frozen=True)
class PlatformShape:
    """How the platform's figures relate, as rates (the defaults: the article's Yiwu
    platform, 18,826 filings about 5,500 companies checked, 3,834 profiled, 38 frauds found
    early, ¥85 M of losses avoided). The generated figures follow these rates; the exact
    counts are the generator's ground truth (:meth:`Market.platform_truth`)."""

    checked_share: float = 0.75  # of company records, those merchants traded with
    filings_per_checked: float = 18_826 / 5_500
    profiled_share: float = 3_834 / 5_500  # of checked companies
    early_fraud_share: float = 38 / 5_500  # of checked companies: frauds found early
    loss_avoided_mean_cny: float = 85_000_000 / 38  # per fraud found early
    other_cases_per_early: float = 1.0  # cases that ended otherwise (no fraud, referred …)


@dataclass
class GenCase:
    """A case the desk worked, with its outcome (None: still open)."""

    companies: list[int]
    title: str
    outcome: str | None
    losses_avoided_cents: int = 0


@dataclass
class GenFiling:
    """One trade filing."""

    merchant: str
    company: int
    amount_cny: float
    due: dt.date
    paid: bool


@dataclass
class Market:
    """A generated market and its ground truth."""

    companies: list[GenCompany]
    merchants: list[str]
    filings: list[GenFiling] = field(default_factory=list)
    false_positives: list[tuple[str, str]] = field(default_factory=list)
    cases: list[GenCase] = field(default_factory=list)

    def platform_truth(self) -> dict[str, int]:
        """The platform's figures as generated (what the statistics must equal)."""
        early = [c for c in self.cases if c.outcome == "fraud_prevented"]
        return {
            "filings": len(self.filings),
            "companies_checked": sum(c.checked for c in self.companies),
            "companies_profiled": sum(c.profile is not None for c in self.companies),
            "frauds_found_early": len(early),
            "losses_avoided_cents": sum(c.losses_avoided_cents for c in self.cases),
        }

    def truth_pairs(self) -> set[tuple[int, int]]:
        """Every pair of record ids (a < b) that belong to the same entity."""
        by_entity: dict[int, list[int]] = {}
        for c in self.companies:
            by_entity.setdefault(c.entity, []).append(c.id)
        out = set()
        for ids in by_entity.values():
            ids.sort()
            for i, a in enumerate(ids):
                for b in ids[i + 1 :]:
                    out.add((a, b))
        return out


class _Gen:
    def __init__(self, seed: int, today: dt.date) -> None:
        self.r = random.Random(seed)
        self.today = today
        self.serial = 0

    def cn_core(self) -> str:
        return "".join(self.r.choice(_CORE) for _ in range(self.r.choice((2, 2, 3))))

    def mobile(self) -> str:
        self.serial += 1
        return f"1{self.r.choice('3456789')}{self.r.randrange(10**9):09d}"

    def phone_typed(self, mobile: str) -> str:
        fmt = self.r.randrange(6)
        if fmt == 0:
            return f"+86 {mobile[:3]}-{mobile[3:7]}-{mobile[7:]}"
        if fmt == 1:
            return f"0086{mobile}"
        if fmt == 2:
            return f"{mobile[:3]} {mobile[3:7]} {mobile[7:]}"
        if fmt == 3:
            return f"+86{mobile}"
        if fmt == 4:
            return "".join(chr(ord(c) + 0xFEE0) for c in mobile)  # full-width digits
        return mobile

    def person(self) -> str:
        return self.r.choice(_FAMILY) + "".join(
            self.r.choice(_GIVEN) for _ in range(self.r.choice((1, 2)))
        )

    def person_typed(self, cn: str) -> str:
        fmt = self.r.randrange(4)
        if fmt == 0:
            return cn
        py = [_PY[c] for c in cn]
        family, given = py[0], "".join(py[1:])
        if fmt == 1:
            return f"{family.title()} {given.title()}"
        if fmt == 2:
            return f"{given.title()} {family.upper()}"
        return f"Mr. {family.title()} {given}"

    def address(self) -> str:
        return (
            f"No. {self.r.randrange(1, 999)} {self.r.choice(_ROADS)} Road, "
            f"Room {self.r.randrange(100, 3000)}, Yiwu"
        )

    def address_typed(self, a: str) -> str:
        fmt = self.r.randrange(3)
        if fmt == 0:
            return a
        if fmt == 1:
            return a.replace("Road", "Rd.").replace("Room", "Rm").upper() + ", Zhejiang, China"
        num, road_rest = a.split(" ", 2)[1], a.split(" ", 2)[2]
        road, room = road_rest.split(", ")[0], road_rest.split(", ")[1]
        return f"{room}, {num} {road}, Yiwu City"

    def latin_name(self, core: str, variant: int) -> str:
        py = [_PY[c] for c in core]
        if variant == 0:
            base = "".join(py).title()
        elif variant == 1:
            base = " ".join(p.title() for p in py)
        else:
            base = "".join(py).upper()
        return f"{base} {self.r.choice(_SUFFIX_EN)}"


def generate(
    n_entities: int = 1000,
    *,
    seed: int = 8,
    vest_rate: float = 0.08,
    typo_rate: float = 0.03,
    coincidence_rate: float = 0.03,
    duplicate_rate: float = 0.10,
    lookalike_rate: float = 0.05,
    agent_rate: float = 0.03,
    n_agents: int = 12,
    n_merchants: int | None = None,
    filings_per_company: float | None = None,
    today: dt.date | None = None,
    shape: PlatformShape | None = None,
) -> Market:
    """Generate a market of ``n_entities`` real companies (more records: duplicates, vests),
    the trades merchants filed, registry profiles and the desk's cases (``shape``; a
    ``filings_per_company`` overrides its filings per checked company, as a mean over every
    record)."""
    shape = shape or PlatformShape()
    if filings_per_company is not None:
        shape = PlatformShape(**{**shape.__dict__,
                                 "filings_per_checked": filings_per_company / shape.checked_share})  # fmt: skip
    today = today or dt.date(2026, 11, 1)
    g = _Gen(seed, today)
    r = g.r
    agents = [(g.mobile(), g.address()) for _ in range(n_agents)]
    hotline = "0579-8518 0000"  # market management office, given by many merchants
    false_positives = [("phone", a[0]) for a in agents] + [("address", a[1]) for a in agents]
    false_positives.append(("phone", hotline))
    companies: list[GenCompany] = []
    cores: list[str] = []
    truths: list[dict[str, str]] = []

    def add(entity: int, ids: list[tuple[str, str]], founded: dt.date, **kw: object) -> GenCompany:
        c = GenCompany(len(companies) + 1, entity, ids, founded, **kw)  # type: ignore[arg-type]
        companies.append(c)
        return c

    for e in range(n_entities):
        core = r.choice(cores) if cores and r.random() < lookalike_rate else g.cn_core()
        cores.append(core)
        truth = {
            "phone": g.mobile(),
            "email": f"sales{r.randrange(10**6)}@{''.join(_PY[c] for c in core)}{e}.com",
            "contact": g.person(),
            "address": g.address(),
            "bank": f"6222{r.randrange(10**15):015d}",
            "reg": f"91330782{r.randrange(10**9):09d}{r.choice('0123456789X')}",
        }
        founded = today - dt.timedelta(days=r.randrange(30, 4000))
        fraud = r.random() < vest_rate

        def typed(kinds: list[str], truth: dict[str, str] = truth) -> list[tuple[str, str]]:
            ids: list[tuple[str, str]] = []
            for kind in kinds:
                v = truth[kind]
                if kind == "phone":
                    ids.append(("phone", g.phone_typed(v)))
                elif kind == "contact":
                    ids.append(("contact", g.person_typed(v)))
                elif kind == "address":
                    ids.append(("address", g.address_typed(v)))
                elif kind == "bank":
                    ids.append(("bank", " ".join(v[i : i + 4] for i in range(0, len(v), 4))))
                elif kind == "reg":
                    ids.append(("reg_code", v))
                else:
                    ids.append((kind, v.upper() if r.random() < 0.2 else v))
            return ids

        probs = {
            "reg": 0.5,
            "phone": 0.9,
            "email": 0.7,
            "contact": 0.8,
            "address": 0.8,
            "bank": 0.4,
        }
        kinds = [k for k, p in probs.items() if r.random() < p] or ["phone"]
        names = [("name", core + r.choice(_SUFFIX_CN)), ("name", g.latin_name(core, 0))]
        first = add(e, names + typed(kinds), founded, fraudulent=fraud)
        if truths and r.random() < coincidence_rate:
            # An unrelated company in the same building, or a contact with a common name:
            # one weak identifier in common with a stranger (never enough to link).
            other = r.choice(truths)
            kind = r.choice(("address", "contact"))
            first.identifiers.append((kind, other[kind]))
        truths.append(truth)
        if r.random() < agent_rate:
            ph, ad = r.choice(agents)
            first.identifiers += [("phone", g.phone_typed(ph)), ("address", ad)]
        if r.random() < agent_rate:
            first.identifiers.append(("phone", hotline))
        if len(kinds) >= 2 and r.random() < duplicate_rate:
            # The same company typed by another merchant: another transliteration, other
            # formats, two or three of the identifiers the first merchant gave.
            dup = r.sample(kinds, min(len(kinds), r.choice((2, 3))))
            add(
                e,
                [("name", g.latin_name(core, r.randrange(3)))] + _typos(r, typed(dup), typo_rate),
                founded,
            )
        reusable = [k for k in kinds if k in KINDS_REUSED_BY_VESTS]
        if fraud and len(reusable) >= 2:
            for _ in range(r.choice((1, 1, 2))):
                reused = r.sample(reusable, 2)
                new_core = g.cn_core()
                ids = [
                    ("name", new_core + r.choice(_SUFFIX_CN)),
                    ("name", g.latin_name(new_core, 0)),
                ]
                ids.append(("reg_code", f"91330782{r.randrange(10**9):09d}X"))
                ids += _typos(r, typed(reused), typo_rate)
                if "phone" not in reused:
                    ids.append(("phone", g.phone_typed(g.mobile())))
                vest_founded = today - dt.timedelta(days=r.randrange(5, 200))
                add(e, ids, vest_founded, fraudulent=True, vest_of=first.id)
    merchants = [f"m-{i}" for i in range(1, (n_merchants or max(10, n_entities // 3)) + 1)]
    # The platform's work draws on its own stream: the companies above stay the same for a
    # seed whatever the shape.
    rp = random.Random(f"platform-{seed}")
    for c in companies:
        # a fraud that cheated merchants was traded with; others, as often as the shape says
        c.checked = (c.fraudulent and c.vest_of is None) or rp.random() < shape.checked_share
    filings = _filings(rp, companies, merchants, shape.filings_per_checked, today)
    _profiles(rp, companies, shape, today)
    cases = _cases(rp, companies, shape)
    return Market(companies, merchants, filings, false_positives, cases)


def merchant_name(i: int) -> str:
    """The registered name of market booth ``i``: the same name for the same booth every run
    (e.g. 义乌市鑫源饰品商行)."""
    r = random.Random(f"merchant-{i}")
    return (
        "义乌市" + "".join(r.choice(_CORE) for _ in range(2)) + r.choice(_GOODS) + r.choice(_SHOP)
    )


def display_name(names: list[str]) -> str:
    """The name a company is shown under: its Chinese registered name when a merchant gave
    one (as Yiwu's registers write it), else the last name given."""
    return next((n for n in names if any("\u4e00" <= ch <= "\u9fff" for ch in n)), names[-1])


def _typos(r: random.Random, ids: list[tuple[str, str]], rate: float) -> list[tuple[str, str]]:
    """A merchant mistypes a digit now and then: that identifier no longer matches."""
    out = []
    for kind, raw in ids:
        digits = [i for i, ch in enumerate(raw) if ch.isdigit()]
        if kind in ("phone", "bank") and digits and r.random() < rate:
            i = r.choice(digits[3:] or digits)
            raw = raw[:i] + str((int(raw[i]) + 1) % 10) + raw[i + 1 :]
        out.append((kind, raw))
    return out


def _filings(
    r: random.Random,
    companies: list[GenCompany],
    merchants: list[str],
    per_checked: float,
    today: dt.date,
) -> list[GenFiling]:
    """Each checked company's filings: one or more, ``per_checked`` on average (geometric)."""
    out = []
    p = 1 / max(per_checked, 1.0)  # 1 + Geometric(p) has mean 1/p
    for c in companies:
        if not c.checked:
            continue
        n = 1 + (int(math.log(1 - r.random()) / math.log(1 - p)) if p < 1 else 0)
        for _ in range(n):
            due = today + dt.timedelta(days=r.randrange(-300, 90))
            unpaid_p = 0.7 if c.fraudulent and c.vest_of is None else 0.05
            out.append(
                GenFiling(
                    r.choice(merchants),
                    c.id,
                    round(r.lognormvariate(10.5, 1.0), 2),
                    due,
                    paid=due >= today or r.random() >= unpaid_p,
                )
            )
    return out


_SCOPES = [
    "日用百货、小商品的批发零售",
    "货物进出口；技术进出口",
    "针纺织品、服装鞋帽销售",
    "玩具、工艺品的批发",
]


def gen_uscc(r: random.Random) -> str:
    """A well-formed unified social credit code (Zhejiang, Yiwu), check character included."""
    body = "91330782" + "".join(r.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(9))
    return body + uscc_check_char(body)


def _profiles(
    r: random.Random, companies: list[GenCompany], shape: PlatformShape, today: dt.date
) -> None:
    """Registry records for a share of the checked companies."""
    for c in companies:
        if not c.checked or r.random() >= shape.profiled_share:
            continue
        c.profile = {
            "uscc": gen_uscc(r),
            "legal_rep": r.choice(_FAMILY) + r.choice(_GIVEN) + r.choice(_GIVEN),
            "registered_address": f"浙江省义乌市{r.choice(_ROADS)}路{r.randrange(1, 999)}号",
            "registered_capital_cents": r.choice((10, 50, 100, 500, 1000)) * 10_000 * 100,
            "founding_date": c.founded.isoformat(),
            "business_scope": r.choice(_SCOPES),
            "reg_status": "revoked" if c.fraudulent and c.vest_of is None else "in_business",
        }


def _cases(r: random.Random, companies: list[GenCompany], shape: PlatformShape) -> list[GenCase]:
    """Frauds found early (cases closed as prevented, with the losses avoided) among the
    checked fraudulent companies, and cases that ended otherwise or are still open."""
    checked = [c for c in companies if c.checked]
    frauds = [c for c in checked if c.fraudulent]
    n_early = min(len(frauds), round(len(checked) * shape.early_fraud_share))
    cases = []
    for c in r.sample(frauds, n_early):
        loss = r.lognormvariate(math.log(shape.loss_avoided_mean_cny) - 0.5, 1.0)
        cases.append(GenCase([c.id], f"赊账订货：{c.id}", "fraud_prevented", int(loss * 100)))
    honest = [c for c in checked if not c.fraudulent]
    n_other = min(len(honest), round(n_early * shape.other_cases_per_early))
    for i, c in enumerate(r.sample(honest, n_other)):
        outcome = (None, "no_fraud", "inconclusive")[i % 3]
        cases.append(GenCase([c.id], f"商户举报核查：{c.id}", outcome))
    return cases


# Loading a generated market ----------------------------------------------------------
def market_rows(market: Market) -> tuple[list[dict], list[dict], list[Key]]:
    """Company rows, identifier rows (normalised) and false-positive keys of a market."""
    companies, idents = [], []
    now = time.time()
    for c in market.companies:
        names = [raw for k, raw in c.identifiers if k == "name"]
        companies.append(
            {
                "id": c.id,
                "display_name": display_name(names),
                "founded": c.founded.isoformat(),
                "cluster_id": c.id,
                "created_ts": now,
                "created_by": "generator",
                "checked_ts": now if c.checked else None,
                "checked_by": "generator" if c.checked else None,
                "profiled_ts": now if c.profile else None,
                "profiled_by": "generator" if c.profile else None,
            }
        )
        seen = set()
        for kind, raw in c.identifiers:
            try:
                keys = keys_for(kind, raw)
            except IdentifierError:
                continue
            for k, v in keys:
                if (k, v) not in seen:
                    seen.add((k, v))
                    idents.append({"company_id": c.id, "kind": str(k), "raw": raw, "norm": v})
    fps = [(str(k), v) for kind, raw in market.false_positives for k, v in keys_for(kind, raw)]
    return companies, idents, fps


def load_market(svc: Any, market: Market, *, today: dt.date | None = None) -> dict[str, Any]:
    """Write a generated market into an empty fraud database, resolve it, flag overdue."""
    today = today or svc.today()
    companies, idents, fps = market_rows(market)
    now = time.time()

    def tx(db: Any) -> None:
        db["fraud_merchants"].insert_all(
            (
                {
                    "id": m,
                    "name": merchant_name(i),
                    "market": "义乌国际商贸城",
                    "booth": f"D{i % 5 + 1}-{100 + i}",
                    "created_ts": now,
                }
                for i, m in enumerate(market.merchants)
            ),
            batch_size=5000,
        )
        db["fraud_companies"].insert_all(companies, batch_size=5000)
        db["fraud_identifiers"].insert_all(idents, batch_size=5000, ignore=True)
        db["fraud_false_positives"].insert_all(
            (
                {
                    "kind": k,
                    "norm": v,
                    "raw": v,
                    "reason": "logistics agent / market hotline",
                    "added_by": "generator",
                    "ts": now,
                }
                for k, v in fps
            ),
            ignore=True,
        )
        db["fraud_filings"].insert_all(
            (
                {
                    "merchant_id": f.merchant,
                    "company_id": f.company,
                    "goods": _GOODS[f.company % len(_GOODS)],
                    "quantity": 100,
                    "amount_cents": int(f.amount_cny * 100),
                    "currency": "CNY",
                    "amount_cny_cents": int(f.amount_cny * 100),
                    "paid_cents": int(f.amount_cny * 100) if f.paid else 0,
                    "due_date": f.due.isoformat(),
                    "documents": "[]",
                    "status": "paid" if f.paid else "open",
                    "filed_ts": now,
                }
                for f in market.filings
            ),
            batch_size=10000,
        )

    svc.db.write(tx, timeout=None)
    svc.db.write(lambda db: _load_casework(db, market, now), timeout=None)
    svc.reload_false_positives()  # loaded around the service: it caches the list
    stats = re_resolve(svc)
    svc.sweep_overdue(today)
    return stats


def _load_casework(db: Any, market: Market, now: float) -> None:
    """The generated registry profiles and the desk's cases with their outcomes."""
    db["fraud_company_profiles"].insert_all(
        (
            {**c.profile, "company_id": c.id, "source": "generator", "updated_by": "generator",
             "updated_ts": now}
            for c in market.companies
            if c.profile
        ),
        batch_size=5000,
    )  # fmt: skip
    for case in market.cases:
        closed = case.outcome is not None
        cid = db["fraud_cases"].insert({
            "title": case.title, "company_ids": json.dumps(case.companies), "ts": now,
            "opened_by": "generator", "status": "closed" if closed else "investigating",
            "outcome": case.outcome, "losses_avoided_cents": case.losses_avoided_cents,
            "outcome_note": "generated" if closed else None, "updated_ts": now,
            "closed_ts": now if closed else None, "closed_by": "generator" if closed else None,
        }).last_pk  # fmt: skip
        db["fraud_case_companies"].insert_all(
            {"case_id": cid, "company_id": x, "added_by": "generator", "ts": now}
            for x in case.companies
        )
