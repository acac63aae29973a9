"""Every route of the previous release is still served (new routes are fine).

``routes.json`` lists each "METHOD path" of the OpenAPI document of release 0.1.0. Path
parameter names are compared as ``{}``: renaming ``{fid}`` to ``{filing_id}`` changes nothing
for a client, while a moved or removed path does.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.golden import adapter

GOLDEN = Path(__file__).with_name("routes.json")
METHODS = ("get", "post", "put", "patch", "delete")


def _shape(route: str) -> str:
    return re.sub(r"\{[^}]*\}", "{}", route)


def test_no_route_of_the_previous_release_is_missing(tmp_path: Path) -> None:
    """The OpenAPI document still has every golden method and path."""
    doc = adapter.openapi(tmp_path)
    now = {
        _shape(f"{m.upper()} {path}")
        for path, ops in doc["paths"].items()
        for m in ops
        if m in METHODS
    }
    golden = json.loads(GOLDEN.read_text())
    assert len(golden) > 100 and len(set(golden)) == len(golden)
    missing = [r for r in golden if _shape(r) not in now]
    assert not missing, "routes of the previous release are gone:\n  " + "\n  ".join(missing)
