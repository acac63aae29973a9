"""Web fixtures: TypeScript's checker (installed once per machine into a git-ignored cache)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.harness.webjs import ensure_tsc


@pytest.fixture(scope="session")
def tsc() -> Path:
    """The ``tsc`` executable (npm installs the pinned TypeScript when it is missing)."""
    return ensure_tsc()
