"""What the population routers share: dependencies and error mapping."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, HTTPException, Path
from pydantic import Field

from ..http.deps import PopulationDep, require_purpose
from .common import PopulationError
from .crypto import UnknownKeyError
from .ids import RecordError

T = TypeVar("T")


Pop = PopulationDep
MAX_ID = 2**63 - 1  # SQLite's INTEGER range: larger ids are refused with 422, not a 500
PathId = Annotated[int, Path(ge=1, le=MAX_ID)]
DbId = Annotated[int, Field(ge=1, le=MAX_ID)]
Purpose = Annotated[str, Depends(require_purpose)]


def call(fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a service call, turning its errors into HTTP answers with a readable detail."""
    try:
        return fn(*args, **kwargs)
    except RecordError as exc:
        raise HTTPException(422, str(exc)) from None
    except PopulationError as exc:
        raise HTTPException(exc.status, str(exc)) from None
    except UnknownKeyError as exc:
        raise HTTPException(500, str(exc)) from None
