"""A synthetic population for tests, benchmarks and the demo (seeded, reproducible).

Names are drawn from common Chinese surnames and given-name characters and, for about
1 % of people, from foreign merchants' names of the countries most present in Yiwu.
PRC ID numbers are valid (real province codes, birth date, sex digit, check digit) but
their county codes and sequence numbers are random: they identify no real person.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from coordinator.population.ids import prc_check_char
from coordinator.population.importer import COLUMNS

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
COMPOUND = ("欧阳", "司马", "诸葛", "上官")
GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华玉兰萍红鹏飞斌宇浩凯健俊帆帅旭宁"
    "婷雪琳晶颖倩玲欣悦怡佳嘉子文博思雨晨阳鑫龙海波辉建国志新春梅燕小红云峰林彬磊鹤"
)
FOREIGN: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "IN": (("Rahul", "Amit", "Priya", "Sanjay", "Anil", "Deepa"), ("Sharma", "Patel", "Gupta", "Singh")),
    "PK": (("Imran", "Ayesha", "Bilal", "Hassan"), ("Khan", "Qureshi", "Malik", "Butt")),
    "EG": (("Mohamed", "Ahmed", "Mona", "Youssef"), ("Hassan", "Ibrahim", "Mahmoud", "Saleh")),
    "SY": (("Omar", "Rami", "Lina", "Khaled"), ("Haddad", "Khoury", "Nasser", "Aziz")),
    "IQ": (("Ali", "Hussein", "Zainab", "Mustafa"), ("Al-Jabouri", "Al-Saadi", "Kareem")),
    "RU": (("Ivan", "Olga", "Dmitry", "Natalia", "Sergei"), ("Ivanov", "Petrova", "Smirnov", "Volkov")),
    "KR": (("Minjun", "Seoyeon", "Jihoon", "Jiwoo"), ("Kim", "Lee", "Park", "Choi")),
    "NG": (("Chinedu", "Ngozi", "Emeka", "Funmi"), ("Okafor", "Adeyemi", "Balogun", "Eze")),
    "AF": (("Ahmad", "Farid", "Mariam", "Nasir"), ("Rahimi", "Karimi", "Ahmadzai")),
    "YE": (("Abdullah", "Salem", "Fatima", "Nabil"), ("Al-Ahmar", "Saleh", "Ba-Wazir")),
    "KZ": (("Nursultan", "Aigerim", "Daniyar"), ("Nurlanov", "Suleimenova", "Abenov")),
    "BR": (("João", "Maria", "Lucas", "Ana"), ("Silva", "Santos", "Oliveira", "Souza")),
}  # fmt: skip
# Yiwu's migrants come mostly from neighbouring and inland provinces (weights, not data).
ORIGIN_WEIGHTS = {"33": 30, "36": 14, "34": 10, "52": 10, "43": 7, "51": 7, "42": 5, "41": 5,
                  "35": 3, "53": 3, "45": 2, "37": 2, "61": 1, "62": 1}  # fmt: skip


#: The population bureau's headline (the city's registered residents by hukou) and the
#: resident foreigners: the generator draws each person's kind with these weights, so a
#: generated city of any size has the article's ratios (2.3 M at full scale).
RATES = {"migrant": 1_513_000, "local": 748_000, "foreign": 13_000}
#: Yiwu's own area code: a local's ID and hukou place start with it.
CITY_CODE = "330782"


def prc_id(
    rng: random.Random, province: str, born: dt.date, sex: str, county: str | None = None
) -> str:
    """A valid-format PRC ID number (random county unless given, random sequence)."""
    # counties 01-29/01-30 never make the city's own 0782: a random one is a migrant's
    county = county or f"{rng.randint(1, 29):02d}{rng.randint(1, 30):02d}"
    seq = rng.randint(0, 99) * 10 + rng.choice((1, 3, 5, 7, 9) if sex == "M" else (0, 2, 4, 6, 8))
    first = f"{province}{county}{born:%Y%m%d}{seq:03d}"
    return first + prc_check_char(first)


def _birth(rng: random.Random) -> dt.date:
    return dt.date(1950, 1, 1) + dt.timedelta(days=rng.randint(0, 365 * 55))


def person(
    rng: random.Random, zones: list[str], rates: dict[str, int] | None = None
) -> dict[str, Any]:
    """One synthetic person as a CSV record (see importer.COLUMNS): a migrant, a local or a
    foreign resident, drawn with the weights ``rates`` (default :data:`RATES`)."""
    rates = rates or RATES
    kind = rng.choices(list(rates), weights=list(rates.values()))[0]
    sex = rng.choice("MF")
    born = _birth(rng)
    zone = rng.choice(zones)
    address = (
        f"{zone} {rng.choice('东西南北中')}街 {rng.randint(1, 400)}号 {rng.randint(101, 1808)}室"
    )
    rec: dict[str, Any] = dict.fromkeys(COLUMNS, "")
    if kind == "foreign":
        country = rng.choice(list(FOREIGN))
        given, family = FOREIGN[country]
        rec.update(
            name=f"{rng.choice(given)} {rng.choice(family)}",
            id_type="passport",
            id_number=f"{rng.choice('ABCEGKMNP')}{rng.randint(10_000_000, 99_999_999)}",
            dob=born.isoformat(),
            sex=sex,
            nationality=country,
            origin=country,
        )
    else:
        if kind == "local":
            number = prc_id(rng, CITY_CODE[:2], born, sex, county=CITY_CODE[2:])
        else:
            prov = rng.choices(list(ORIGIN_WEIGHTS), weights=list(ORIGIN_WEIGHTS.values()))[0]
            number = prc_id(rng, prov, born, sex)
        sur = rng.choice(COMPOUND) if rng.random() < 0.01 else rng.choice(SURNAMES)
        given_name = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2, 2))))
        rec.update(name=sur + given_name, id_type="prc_id", id_number=number, nationality="CN",
                   hukou_place=number[:6])  # fmt: skip
    rec.update(phone=f"1{rng.choice('3578')}{rng.randint(0, 999_999_999):09d}", zone=zone,
               address=address, kind="other",
               valid_from=(dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 600))).isoformat())  # fmt: skip
    return rec


def population(
    n: int, seed: int = 7, zones: list[str] | None = None, rates: dict[str, int] | None = None
) -> Iterator[dict[str, Any]]:
    """``n`` synthetic persons; about 0.5 % come back: half of them with the same document
    (an import reports those as already on record), half with a new document and another
    spelling (a renewed passport, a re-issued ID) for the duplicate review."""
    rng = random.Random(seed)
    zones = zones or [f"Z{i:02d}" for i in range(1, 15)]
    recent: list[dict[str, Any]] = []
    for _ in range(n):
        if recent and rng.random() < 0.005:
            dup = dict(rng.choice(recent))
            new_doc = rng.random() < 0.5
            if dup["id_type"] == "passport":
                dup["name"] = dup["name"].upper()
                if new_doc:
                    dup["id_number"] = f"{rng.choice('ABCEGKMNP')}{rng.randint(10**7, 10**8 - 1)}"
            else:
                dup["name_latin"] = ""  # same person, re-registered without changes
                if new_doc:
                    old = dup["id_number"]
                    born = dt.date(int(old[6:10]), int(old[10:12]), int(old[12:14]))
                    sex = "M" if int(old[16]) % 2 else "F"
                    dup["id_number"] = prc_id(rng, old[:2], born, sex)
            yield dup
            continue
        rec = person(rng, zones, rates)
        if len(recent) < 1000:
            recent.append(rec)
        elif rng.random() < 0.01:
            recent[rng.randrange(1000)] = rec
        yield rec


def write_csv(
    path: Path, n: int, seed: int = 7, zones: list[str] | None = None,
    rates: dict[str, int] | None = None,
) -> Path:  # fmt: skip
    """Write a synthetic population to a CSV file ready for import."""
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for rec in population(n, seed, zones, rates):
            w.writerow(rec)
    return path


def hukou_of(rec: dict[str, Any]) -> str:
    """A generated record's hukou status, as the generator meant it."""
    if rec["id_type"] != "prc_id":
        return "none"
    return "local" if rec["hukou_place"] == CITY_CODE else "migrant"


def ground_truth(records: Iterator[dict[str, Any]] | list[dict[str, Any]]) -> dict[str, Any]:
    """What the statistics must say of an import of ``records``: persons by hukou status, by
    zone and hukou, by origin (one person per document: a repeated document is not
    created), counted from the generator's own intent, not by the code under test."""
    from collections import Counter

    seen: set[tuple[str, str, str]] = set()
    hukou: Counter[str] = Counter()
    zone_hukou: Counter[tuple[str, str]] = Counter()
    for rec in records:
        country = rec["nationality"] if rec["id_type"] == "passport" else "CN"
        key = (rec["id_type"], country, rec["id_number"])
        if key in seen:
            continue
        seen.add(key)
        h = hukou_of(rec)
        hukou[h] += 1
        zone_hukou[(rec["zone"], h)] += 1
    return {"hukou": dict(hukou), "zone_hukou": dict(zone_hukou), "persons": len(seen)}


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point (``python -m devtools.population_data``)."""
    ap = argparse.ArgumentParser(
        description="Write a synthetic population CSV for tests, benchmarks and demos "
        "(import it with `coordinator population-import`).",
        epilog="Example: python -m devtools.population_data demo.csv --count 5000",
    )
    ap.add_argument("file", help="CSV file to write")
    ap.add_argument("--count", type=int, default=1000, help="persons to generate")
    ap.add_argument("--seed", type=int, default=7, help="random seed (same seed, same people)")
    args = ap.parse_args(argv)
    write_csv(Path(args.file), args.count, args.seed)
    print(f"wrote {args.count} synthetic persons to {args.file}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
