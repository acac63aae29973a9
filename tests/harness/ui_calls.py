"""What the dashboard asked of the API: every request a browser page sends to ``/api/``,
recorded by Playwright, so a browser test can show that each change it checks on the
server was made by the page (the test itself calls no API for that user)."""

from __future__ import annotations

import re
from collections import Counter
from urllib.parse import urlsplit

WRITE = ("POST", "PUT", "PATCH", "DELETE")


class ApiCalls:
    """Requests a page sent to the API, as (method, path with ids replaced by ``{}``)."""

    def __init__(self, page) -> None:  # noqa: ANN001
        self.calls: list[tuple[str, str]] = []
        page.on("request", self._seen)

    def _seen(self, request) -> None:  # noqa: ANN001
        path = urlsplit(request.url).path
        if path.startswith("/api/"):
            self.calls.append((request.method, re.sub(r"/\d+(?=/|$)", "/{}", path)))

    def writes(self) -> Counter[tuple[str, str]]:
        """How many state-changing requests of each route the page sent."""
        return Counter(c for c in self.calls if c[0] in WRITE)
