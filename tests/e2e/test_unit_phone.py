"""The patrol unit's phone page in Chromium with a phone's viewport and location, against
the real coordinator: sign on, share the position, receive an order, decline one with a
reason, accept the next and walk it to clear."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.devcity import DEMO_PASSWORD, PHONE_UNIT, PHONE_USER, DevCity
from tests.harness.browser import shot
from tests.harness.mqtt import wait_for

PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(chromium, city: DevCity) -> Iterator:  # noqa: ANN001
    """A phone-sized context with the location permission and a position in the city."""
    unit = city.services.dispatch.units.get(PHONE_UNIT)
    assert unit is not None and unit.lat is not None
    ctx = chromium.new_context(
        viewport=PHONE,
        is_mobile=True,
        has_touch=True,
        permissions=["geolocation"],
        geolocation={"latitude": unit.lat + 0.001, "longitude": unit.lon, "accuracy": 12},
    )
    p = ctx.new_page()
    p.set_default_timeout(15000)
    p.goto(city.url + "/ui/unit.html")
    yield p
    ctx.close()
    dispatch = city.services.dispatch
    for o in dispatch.db.query(
        "select id from dispatch_orders where unit_id = ? and status in "
        "('offered','accepted','en_route','on_scene')",
        [PHONE_UNIT],
    ):
        dispatch._end(dispatch.order(o["id"]), "cancelled", "test over", reoffer=False)
    dispatch.set_unit_status(PHONE_UNIT, "off_duty", "test over")


def _incident(city: DevCity, cam_index: int, track: int) -> str:
    cam = city.cameras[cam_index]["id"]
    city.publish_event(cam, kind="intrusion", conf=0.9, track=track)
    found: list[str] = []

    def seen() -> bool:
        rows = city.services.incidents.search(status=["new"], limit=500)
        found[:] = [r["id"] for r in rows if cam in (r["devices"] or [])]
        return bool(found)

    wait_for(seen, 20, f"an incident from {cam}")
    return found[0]


def test_a_unit_works_its_orders_from_a_phone(phone, city: DevCity):
    phone.fill("input[name=username]", PHONE_USER)
    phone.fill("input[name=password]", DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("[data-testid=no-orders]")
    phone.click("button[data-status=available]")
    dispatch = city.services.dispatch
    wait_for(lambda: dispatch.units.get(PHONE_UNIT).status == "available", 10, "signed on")
    before = dispatch.units.get(PHONE_UNIT).pos_ms
    phone.click("button[data-share=on]")
    phone.wait_for_selector("[data-testid=location]:has-text('±')")
    assert dispatch.units.get(PHONE_UNIT).pos_ms > before  # the phone's position reached the centre

    first = _incident(city, 51, 5101)
    order = dispatch.dispatch(first, PHONE_UNIT, actor="user:dispatcher")
    card = phone.locator(f"[data-order-card='{order['id']}']")
    card.wait_for()
    assert "km" in card.locator("[data-testid=direction]").inner_text()
    shot(phone, "unit-phone")
    card.locator("button[data-open-decline]").click()
    card.locator("textarea[name=note]").fill("flat tyre")
    card.locator("form button[type=submit]").click()
    card.wait_for(state="detached")
    assert dispatch.order(order["id"])["status"] == "declined"
    history = dispatch.events_for(first)
    assert any("flat tyre" in (e["detail"] or "") for e in history if e["status"] == "declined")

    second = _incident(city, 52, 5201)
    order = dispatch.dispatch(second, PHONE_UNIT, actor="user:dispatcher")
    card = phone.locator(f"[data-order-card='{order['id']}']")
    for button, status in (
        ("accepted", "accepted"),
        ("en_route", "en_route"),
        ("on_scene", "on_scene"),
    ):
        card.locator(f"button[data-ack={button}]").click()
        phone.wait_for_selector(f"[data-order-card='{order['id']}'][data-status={status}]")
        assert dispatch.order(order["id"])["status"] == status
    assert city.services.incidents.get(second)["status"] == "on_scene"
    card.locator("button[data-ack=cleared]").click()
    phone.wait_for_selector("[data-testid=no-orders]")
    assert city.services.incidents.get(second)["status"] == "resolved"
    # the page fits a phone: nothing wider than the screen
    width = phone.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"page is {width}px wide on a {PHONE['width']}px phone"


def test_a_dispatcher_account_is_not_a_unit(phone, city: DevCity):
    phone.fill("input[name=username]", "dispatcher")
    phone.fill("input[name=password]", DEMO_PASSWORD)
    phone.click("button[type=submit]")
    phone.wait_for_selector("#login-error:has-text('not a patrol unit')")
