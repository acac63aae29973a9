"""Hukou and the bureau's figures: local vs migrant on every person, statistics by area,
origin, status and hukou that equal the generator's ground truth exactly, and no statistics
cell under 5 ever shown (nor given back by a total)."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.population.ids import CITY_HUKOU_CODE, RecordError
from coordinator.population.stats import MIN_CELL, protect_table
from devtools.population_data import RATES, ground_truth, population, write_csv
from devtools.synthetic_city import SMALL, generate
from tests.harness.population import officer, person_data

ZONES = ["Z001", "Z002", "Z003", "Z004", "Z005", "Z006", "Z007", "Z008"]


def test_hukou_is_local_for_the_citys_own_place_and_migrant_otherwise(pop):
    p = officer("o", ("Z01",))
    local = pop.records.create_person(p, person_data(70, hukou_place=CITY_HUKOU_CODE), "t")
    assert local["person"]["hukou"] == "local"
    migrant = pop.records.create_person(p, person_data(71), "t")["person"]
    assert migrant["hukou"] == "migrant" and migrant["hukou_place"][:2] == "36"  # from the ID
    foreign = pop.records.create_person(p, dict(name="Olga Smirnova", id_type="passport",
        id_number="R7009999", nationality="RU", dob="1979-11-23", zone="Z01"), "t")  # fmt: skip
    assert foreign["person"]["hukou"] == "none"
    with pytest.raises(RecordError, match="hukou_place"):
        pop.records.create_person(p, person_data(72, hukou_place="99"), "t")
    moved = pop.records.update_person(p, migrant["id"], {"hukou_place": CITY_HUKOU_CODE}, "t")
    assert moved["hukou"] == "local"  # a hukou moved to the city: counted as local now
    assert pop.stats.summary(p, ["hukou"])["hukou"] == {"local": "<5", "none": "<5"}


def test_statistics_equal_the_generators_ground_truth(services, tmp_path):
    """The demo population is drawn from the bureau's rates; after import, the figures are
    the generator's own counts, exactly (one person per document), and the ratio of
    migrants to locals is the article's."""
    services.geo.load_zones(generate(SMALL).zones)
    pop = services.population
    n = 4000
    f = write_csv(tmp_path / "city.csv", n, seed=13, zones=ZONES)
    truth = ground_truth(population(n, seed=13, zones=ZONES))
    s = pop.importer.run("cli:test", f)
    assert s["imported"] == truth["persons"] and s["imported"] + s["existing"] == n
    out = pop.stats.summary(officer("all", tuple(ZONES)))
    assert out["hukou"] == truth["hukou"]  # every cell here is far above 5
    assert out["totals"]["persons"] == truth["persons"]
    zone_hukou = {f"{z}|{h}": c for (z, h), c in truth["zone_hukou"].items()}
    shown = {k: v for k, v in out["zone_hukou"].items() if isinstance(v, int)}
    assert shown and all(zone_hukou[k] == v for k, v in shown.items())
    assert set(out["zone_hukou"]) == set(zone_hukou)
    ratio = truth["hukou"]["migrant"] / truth["hukou"]["local"]
    assert abs(ratio - RATES["migrant"] / RATES["local"]) < 0.15  # 2.02 in the article
    # the stations' and centres' persons by hukou are the zones rolled up the one hierarchy
    areas = pop.ctx.areas()
    assert areas is not None
    for level in ("station", "centre"):
        want: dict[str, int] = {}
        for (z, h), c in truth["zone_hukou"].items():
            for a, m in areas.roll_up({z: c}, level).items():
                want[f"{a}|{h}"] = want.get(f"{a}|{h}", 0) + m
        got = out[f"{level}_hukou"]
        assert set(got) == set(want)
        assert all(want[k] == v for k, v in got.items() if isinstance(v, int))


cells = st.dictionaries(
    st.tuples(st.sampled_from(ZONES), st.sampled_from(["local", "migrant", "none"])),
    st.integers(min_value=1, max_value=40),
    max_size=24,
)


def _revealed(table: dict[tuple[str, str], int], shown: dict[str, int | str]) -> list[str]:
    """Cells under 5 shown, or given back as a row's or column's total (shown elsewhere when
    it is 5 or more) minus what is shown."""
    bad = [k for k, v in shown.items() if isinstance(v, int) and v < MIN_CELL]
    for axis in (0, 1):
        lines: dict[str, list[tuple[str, str]]] = {}
        for k in table:
            lines.setdefault(k[axis], []).append(k)
        for line, keys in lines.items():
            gap = sum(table[k] for k in keys if not isinstance(shown[f"{k[0]}|{k[1]}"], int))
            if sum(table[k] for k in keys) >= MIN_CELL and 0 < gap < MIN_CELL:
                bad.append(f"line {line} gives back {gap}")
    return bad


@settings(max_examples=300, deadline=None)
@given(cells)
def test_no_cell_under_five_is_shown_nor_given_back_by_a_total(table):
    shown = protect_table(table)
    assert set(shown) == {f"{r}|{c}" for r, c in table}
    assert _revealed(table, shown) == []
    # what is shown is the truth
    assert all(table[tuple(k.split("|"))] == v for k, v in shown.items() if isinstance(v, int))


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(cells)
def test_no_statistics_cell_under_five_in_the_bureaus_answer(services, table):
    """Whatever the counts, every number the statistics answer shows is 5 or more."""
    services.geo.load_zones(generate(SMALL).zones)
    pop = services.population

    def load(db):
        db.execute("delete from pop_counts")
        rows = [("zone_hukou", f"{z}|{h}", n) for (z, h), n in table.items()]
        by_zone: dict[str, int] = {}
        by_hukou: dict[str, int] = {}
        for (z, h), n in table.items():
            by_zone[z] = by_zone.get(z, 0) + n
            by_hukou[h] = by_hukou.get(h, 0) + n
        rows += [("zone", z, n) for z, n in by_zone.items()]
        rows += [("hukou", h, n) for h, n in by_hukou.items()]
        db.conn.executemany("insert into pop_counts (dim, k, n) values (?, ?, ?)", rows)

    pop.ctx.db.write(load)
    out = pop.stats.summary(officer("all", tuple(ZONES)))
    for dim, cells_ in out.items():
        if dim == "totals":
            continue
        small = {k: v for k, v in (cells_ or {}).items() if isinstance(v, int) and v < MIN_CELL}
        assert small == {}, f"{dim} shows {small}"
