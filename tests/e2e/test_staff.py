"""Staff administration in the dashboard: an administrator creates accounts and disables one;
an officer's account waits until a second administrator approves it in the same screen."""

from __future__ import annotations

from devtools.devcity import DevCity
from tests.harness.browser import login, shot


def _open_staff(page, city: DevCity, user: str) -> None:  # noqa: ANN001
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, user)
    page.goto(page.url.split("#")[0] + "#/staff")
    page.wait_for_selector("[data-testid=staff-users]")


def _create(page, username: str, role: str, reason: str = "") -> str:  # noqa: ANN001
    form = page.locator("[data-testid=staff-new]")
    form.locator("input[name=username]").fill(username)
    form.locator("input[name=password]").fill("a-long-password-2026")
    form.locator(f"input[name=roles][value={role}]").check()
    form.locator("input[name=zones]").fill("Z001")
    form.locator("input[name=reason]").fill(reason)
    form.locator("button").click()
    msg = page.locator("[data-testid=staff-msg]")
    msg.wait_for()
    page.wait_for_selector(f"[data-testid=staff-users] tr[data-user='{username}']")
    return msg.inner_text()


def test_admin_creates_and_a_second_admin_approves(page, city: DevCity):
    _open_staff(page, city, "admin")
    # An operator account needs no second administrator: active at once.
    assert "created" in _create(page, "op-temp", "operator")
    row = page.locator("[data-testid=staff-users] tr[data-user='op-temp']")
    assert row.locator("[data-testid=user-state]").inner_text() == "active"
    # Disable it in the screen, with a reason.
    row.locator("button[data-act=disable]").click()
    page.fill(
        "[data-testid=staff-act-form] input[name=value]", "temporary account no longer needed"
    )
    page.click("[data-testid=staff-act-form] button")
    page.wait_for_function(
        "() => document.querySelector(\"tr[data-user='op-temp'] [data-testid=user-state]\")"
        "?.innerText === 'disabled'"
    )
    # An officer account waits for a second administrator, and this one cannot approve it.
    said = _create(page, "officer-new", "population_officer", "new counter officer at Beiyuan")
    assert "second administrator" in said
    row = page.locator("[data-testid=staff-users] tr[data-user='officer-new']")
    assert row.locator("[data-testid=user-state]").inner_text() == "waiting for approval"
    pending = page.locator("[data-testid=staff-pending] tr[data-request]")
    assert pending.count() == 1 and "officer-new" in pending.inner_text()
    assert pending.locator("button[data-decide=approve]").count() == 0
    shot(page, "staff")
    # The second administrator approves it in the same screen.
    _open_staff(page, city, "admin2")
    page.locator("[data-testid=staff-pending] button[data-decide=approve]").click()
    page.wait_for_selector("[data-testid=staff-pending-none]")
    row = page.locator("[data-testid=staff-users] tr[data-user='officer-new']")
    assert row.locator("[data-testid=user-state]").inner_text() == "active"
    assert page.is_hidden("#banner"), page.inner_text("#banner")
    users = {
        r["username"]: r["active"]
        for r in city.services.db.query(
            "select username, active from users where username in ('op-temp', 'officer-new')"
        )
    }
    assert users == {"op-temp": 0, "officer-new": 1}
    decided = city.services.audit.search(actor="admin2", action="approval_approved")
    assert decided and '"requested_by": "admin"' in decided[0]["detail"]
