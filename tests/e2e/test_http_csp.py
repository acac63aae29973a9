"""The dashboard under its Content-Security-Policy, in Chromium: every screen of every demo
role renders with no policy violation, and the live stream opens with a single-use ticket
(never a token in its URL)."""

from __future__ import annotations

import pytest

from devtools.devcity import DevCity
from tests.harness.browser import login

ROLES = ["admin", "operator", "dispatcher", "officer", "investigator", "merchant", "technician"]


@pytest.mark.parametrize("user", ROLES)
def test_every_screen_renders_under_the_csp_without_a_violation(page, city: DevCity, user):
    """Tried: each role's screens, one after another, while Chromium reports console errors.
    Expected: the strict policy (scripts, styles and connections from this origin only, no
    inline style) is served, and not one 'Content Security Policy' violation is reported."""
    violations: list[str] = []
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    res = page.request.get(city.url + "/ui/")
    assert "script-src 'self'" in res.headers["content-security-policy"]
    assert res.headers["x-frame-options"] == "DENY"
    login(page, user)
    screens = page.eval_on_selector_all("#nav a", "els => els.map(e => e.dataset.screen)")
    assert screens
    for screen in screens:
        page.goto(page.url.split("#")[0] + f"#/{screen}")
        page.wait_for_selector(f"#nav a.active[data-screen={screen}]")
        page.wait_for_load_state("networkidle")
    assert violations == []


def test_the_live_stream_opens_with_a_ticket_never_a_token(page, city: DevCity):
    """Tried: an operator signs in and the dashboard opens its live stream.
    Expected: the stream's URL carries a single-use ticket, never the session token; the
    dot turns on."""
    urls: list[str] = []
    page.on("request", lambda r: urls.append(r.url) if "/api/incidents-stream" in r.url else None)
    login(page, "operator")
    page.wait_for_selector("#live[data-state=on]", state="attached")
    token = page.evaluate("JSON.parse(sessionStorage.getItem('citywatch.session')).access_token")
    streams = [u for u in urls if "/api/incidents-stream?" in u]
    assert streams and all("ticket=cwt_" in u for u in streams)
    assert not any(token in u or "access_token" in u for u in urls)
