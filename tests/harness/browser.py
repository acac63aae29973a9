"""Browser-test helpers: sign in through the dashboard's form, save screenshots for the docs."""

from __future__ import annotations

import os
from pathlib import Path

from devtools.devcity import DEMO_PASSWORD
from devtools.totp_codes import next_code

DOC_IMG = Path(__file__).resolve().parents[2] / "docs" / "img"
#: Screenshots go to a git-ignored folder, so a test run leaves the tree clean; set
#: CITYWATCH_SCREENSHOTS=docs/img (``make screenshots``) to refresh the README's pictures.
SCRATCH = Path(".cache/screenshots")
IMG = Path(os.environ.get("CITYWATCH_SCREENSHOTS") or SCRATCH)
#: The README shows the dashboard as its users read it: only Chinese pages go to docs/img
#: (tests/e2e/test_i18n.py takes them); the English ones stay in the scratch folder.
DOC_LANG = "zh-CN"


def login(page, user: str, password: str = DEMO_PASSWORD) -> None:  # noqa: ANN001
    """Sign in through the form (with the seeded second factor when the account asks for
    one) and wait for the navigation to appear."""
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", password)
    page.click("#login-form button[type=submit]")
    page.wait_for_selector("#nav a, #second-form:not([hidden]), #login-error:not(:empty)")
    if page.is_visible("#second-form"):
        origin = page.evaluate("location.origin")
        page.fill("#second-form input[name=code]", next_code(user, origin))
        page.click("#second-form button[type=submit]")
    page.wait_for_selector("#nav a")
    # The pointer leaves the sign-in button, as a hand does: left resting where the incident
    # queue then draws, it would hold the queue (new rows wait in the strip, by design).
    page.mouse.move(1, 1)


def shot(page, name: str) -> None:  # noqa: ANN001
    """Save a screenshot of a screen (``.cache/screenshots/``, or docs/img/ when asked and
    the page is in the README's language)."""
    folder = IMG
    if folder != SCRATCH and page.evaluate("document.documentElement.lang") != DOC_LANG:
        folder = SCRATCH
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(folder / f"{name}.png"))
