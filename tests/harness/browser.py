"""Browser-test helpers: sign in through the dashboard's form, save screenshots for the docs."""

from __future__ import annotations

import os
from pathlib import Path

from devtools.devcity import DEMO_PASSWORD

DOC_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: Screenshots go to a git-ignored folder, so a test run leaves the tree clean; set
#: CITYWATCH_SCREENSHOTS=docs/img (``make screenshots``) to refresh the README's pictures.
IMG = Path(os.environ.get("CITYWATCH_SCREENSHOTS") or ".cache/screenshots")


def login(page, user: str, password: str = DEMO_PASSWORD) -> None:  # noqa: ANN001
    """Sign in through the form and wait for the navigation to appear."""
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("#nav a")
    # The pointer leaves the sign-in button, as a hand does: left resting where the incident
    # queue then draws, it would hold the queue (new rows wait in the strip, by design).
    page.mouse.move(1, 1)


def shot(page, name: str) -> None:  # noqa: ANN001
    """Save a screenshot of a screen (``.cache/screenshots/``, or docs/img/ when asked)."""
    IMG.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMG / f"{name}.png"))
