"""Property tests for the CSV import parser (it faces uploads from the network)."""

from __future__ import annotations

import io
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from coordinator.population.importer import COLUMNS, ImportFileError, physical_lines

HEADER = ",".join(COLUMNS).encode()


@given(st.binary(max_size=3000), st.integers(1, 64))
def test_physical_lines_match_a_regex_split_at_any_chunk_size(data, chunk):
    import coordinator.population.importer as imp

    old = imp.CHUNK
    imp.CHUNK = chunk  # chunk boundaries may fall between CR and LF
    try:
        got = list(physical_lines(io.BytesIO(data)))
    finally:
        imp.CHUNK = old
    want = re.split(rb"\r\n|\r|\n", data)
    if want and want[-1] == b"":
        want.pop()
    assert got == want


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(st.lists(st.binary(max_size=200), max_size=12))
def test_any_body_is_imported_or_rejected_row_by_row(pop, tmp_path_factory, rows):
    body = HEADER + b"\n" + b"\n".join(r.replace(b"\n", b" ").replace(b"\r", b" ") for r in rows)
    f = tmp_path_factory.mktemp("prop") / "in.csv"
    f.write_bytes(body)
    try:
        s = pop.importer.run("cli:prop", f)
    except ImportFileError:
        return  # a header broken by the random bytes: refused whole, with a reason
    assert s["imported"] + s["rejected"] == s["records"]
    assert s["status"] == "done"
