"""Statistics by nationality and service: no published cell under five, none derivable."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from coordinator.hall.suppress import hidden_cells, hidden_totals

NATS = ["AF", "IN", "KR", "NG", "PK", "RU", "SY", "US"]
SERVICES = ["visa_extension", "residence_permit_first", "stay_permit", "exit_permit"]
tables = st.dictionaries(
    st.tuples(st.sampled_from(NATS), st.sampled_from(SERVICES)), st.integers(1, 40), max_size=32
)


@settings(max_examples=300, deadline=None)
@given(tables)
def test_no_small_cell_is_published_or_derivable_from_the_totals(counts):
    hidden = hidden_cells(counts, 5)
    assert all(counts[k] >= 5 for k in counts if k not in hidden)
    for axis in (0, 1):
        groups: dict[str, list] = {}
        for k in counts:
            groups.setdefault(k[axis], []).append(k)
        for keys in groups.values():
            # with the row's (column's) total published, one hidden cell among others could
            # be subtracted; a row of one cell has its total suppressed with it
            assert sum(k in hidden for k in keys) != 1 or len(keys) == 1


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from(NATS), st.integers(1, 40), min_size=1))
def test_totals_under_five_are_hidden_and_never_alone(totals):
    hidden = hidden_totals(totals, 5)
    assert all(totals[k] >= 5 for k in totals if k not in hidden)
    assert len(hidden) != 1 or len(totals) == 1


def test_the_service_publishes_suppressed_statistics(services):
    hall = services.hall
    for i in range(7):
        hall.apply("clerk", dict(service="visa_extension", applicant_name=f"A {i}",
                                 nationality="KR", passport_number=f"M{1000000 + i}"), "stats")  # fmt: skip
    for i in range(2):
        hall.apply("clerk", dict(service="visa_extension", applicant_name=f"B {i}",
                                 nationality="NG", passport_number=f"A{1000000 + i}"), "stats")  # fmt: skip
    s = hall.stats()
    assert s["total"] == 9
    cells = {(c["nationality"], c["service"]): c["count"] for c in s["cells"]}
    assert cells == {("KR", "visa_extension"): None, ("NG", "visa_extension"): None}
    assert s["by_nationality"] == {"KR": None, "NG": None}
