"""The pending-dispatch queue in Chromium: a confirmed incident without a unit is listed
with why it waits, the divert dialog opens in the page, and Dispatch clears the row."""

from __future__ import annotations

from devtools.devcity import DevCity
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for


def _incident_of(city: DevCity, cam: str) -> dict:
    found: list[dict] = []

    def seen() -> bool:
        rows = city.services.incidents.search(status=["new"], limit=500)
        found[:] = [r for r in rows if cam in (r["devices"] or [])]
        return bool(found)

    wait_for(seen, 20, f"an incident from {cam}")
    return found[0]


def test_confirmed_incident_waits_visibly_and_is_dispatched_from_the_queue(page, city: DevCity):
    cam = city.cameras[141]["id"]  # a camera no other browser test uses
    city.publish_event(cam, kind="intrusion", conf=0.91, track=14101)
    inc = _incident_of(city, cam)
    city.services.incidents.confirm(inc["id"], "operator")
    login(page, "dispatcher")
    page.goto(page.url.split("#")[0] + "#/units")
    row = page.locator(f"tr[data-pending='{inc['id']}']")
    row.wait_for(timeout=15000)
    reason = row.locator("[data-testid=pending-reason]")
    assert reason.get_attribute("data-code") in ("awaiting_dispatcher", "no_free_unit")
    assert reason.inner_text().strip()  # a sentence, never an empty cell
    assert "need a unit" in page.inner_text("[data-testid=pending-summary]")
    shot(page, "dispatch-queue")
    # the divert dialog opens in the page (no prompt()), lists proposals or says there are none
    row.locator("button[data-act=divert]").click()
    dialog = page.locator("[data-testid=divert-dialog]")
    dialog.wait_for(state="visible")
    assert dialog.locator("table, p.muted").count() >= 1
    shot(page, "divert-dialog")
    dialog.locator("button[data-act=divert-close]").click()
    dialog.wait_for(state="hidden")
    page.locator(f"tr[data-pending='{inc['id']}'] button[data-act=dispatch]").click()
    page.wait_for_selector(f"tr[data-pending='{inc['id']}']", state="detached", timeout=15000)
    assert city.services.dispatch.orders_for(inc["id"]), "the click sent an order"
