"""Generated Chinese names for the synthetic city: streets, centres, stations, patrol zones
and the organisations that own cameras.

No real map data is reachable here, so every name is composed from two short lists of
characters of our own choosing (a first and a second syllable), giving place words of the
kind Zhejiang street names are made of, then a suffix by road class: 大道 for arterials,
路 for secondary roads, 街 for residential streets, with 东/西/南/北 when a street is cut in
two. Deterministic for a seed; never two streets with one name.
"""

from __future__ import annotations

import random

FIRST = "宾稠江丹雪香福金银春秀青柳兴宏振文新永安华康德惠丰瑞荷梅桂松鹤凤龙溪云朝明光泰和"
SECOND = "王州滨溪峰山田城园桥塘湖阳林港泉宁源岭湾亭坊苑川河庄洲坪埠堤屏"
TRADES = ["饰品", "日用品", "五金", "针织", "电子", "包装", "物流", "商贸", "服饰", "玩具",
          "工艺品", "箱包", "文具", "袜业", "拉链", "化妆品", "灯具", "汽配"]  # fmt: skip
COMMUNITY = ["社区居委会", "小区物业服务中心", "村委会", "花园业主委员会"]


class Namer:
    """Unique two-syllable place words drawn in a seeded order."""

    def __init__(self, seed: int) -> None:
        words = [a + b for a in FIRST for b in SECOND if a != b]
        random.Random(seed).shuffle(words)
        self._words = words
        self._next = 0

    def place(self) -> str:
        """The next unused place word (about 1,500 before the list repeats with a numeral)."""
        i = self._next
        self._next += 1
        word = self._words[i % len(self._words)]
        return word if i < len(self._words) else f"{word}{i // len(self._words) + 1}"


def street(place: str, highway: str, part: str = "") -> str:
    """A street's name from its place word, road class and part (北, 南, 东, 西 or '')."""
    if highway == "primary":
        return f"{place}{part}大道"
    return f"{place}{part}{'路' if highway == 'secondary' else '街'}"


def centre_name(place: str) -> str:
    """A monitoring centre's name."""
    return f"{place}监控中心"


def station_name(place: str) -> str:
    """A police-station area's name."""
    return f"{place}派出所"


def zone_name(station_place: str, n: int) -> str:
    """A patrol zone's name: its station's place and a number."""
    return f"{station_place}第{n}巡区"


def company(place: str, rng: random.Random) -> str:
    """A camera-owning company of the market city."""
    return f"义乌市{place}{rng.choice(TRADES)}有限公司"


def community(place: str, rng: random.Random) -> str:
    """A camera-owning residents' community or property manager."""
    return f"{place}{rng.choice(COMMUNITY)}"


def government(station_place: str) -> str:
    """The public-security bureau unit owning government cameras of a station area."""
    return f"义乌市公安局{station_place}派出所"
