"""What the population routers share: dependencies and path and body types."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Path
from pydantic import Field

from ..http.deps import PopulationDep, require_purpose

Pop = PopulationDep
MAX_ID = 2**63 - 1  # SQLite's INTEGER range: larger ids are refused with 422, not a 500
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
Purpose = Annotated[str, Depends(require_purpose)]
