"""Monitoring centres in the browser, against the session's real city (2 centres): a
centre's operator sees none of the other centre's incidents and cameras on the screens,
hands an incident over through the in-page dialog (it leaves their queue and appears in
the other centre's), a city-wide supervisor sees both, and the shift log signs on."""

from __future__ import annotations

from devtools.devcity import DevCity
from tests.harness.browser import login, shot


def cams_of(city: DevCity, centre: str) -> list[str]:
    """The centre's cameras, from the end of the list (other browser tests use the first
    few: an incident of ours must not show up in their queues)."""
    ids = [c["id"] for c in city.cameras[100:] if city.services.fleet.centre_of(c["id"]) == centre]
    return ids[::-1]


def open_incidents(page, city: DevCity, user: str) -> None:  # noqa: ANN001
    page.goto(city.url + "/ui/")
    login(page, user)
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#inc-body")


def centres_shown(page) -> set[str]:  # noqa: ANN001
    return {c.strip() for c in page.locator("#inc-body [data-testid=centre]").all_inner_texts()}


def test_a_centre_operator_sees_only_their_centre_and_hands_over(page, chromium, city: DevCity):  # noqa: ANN001
    a, b = cams_of(city, "C01"), cams_of(city, "C02")
    assert a and b
    city.publish_event(a[3], kind="intrusion", conf=0.91, track=501)
    city.publish_event(b[3], kind="intrusion", conf=0.91, track=502)
    open_incidents(page, city, "op-c01")
    page.locator(f"#inc-body tr:has-text('{a[3]}')").first.wait_for()
    assert centres_shown(page) == {"C01"}
    assert page.locator(f"#inc-body tr:has-text('{b[3]}')").count() == 0
    # the map and the fleet screen show only this centre's cameras
    page.goto(page.url.split("#")[0] + "#/map")
    count = page.locator("[data-testid=camera-count]")
    count.wait_for()
    everything = city.services.db.query("select count(*) n from devices where centre_id = 'C01'")[
        0
    ]["n"]
    assert 0 < everything < len(city.cameras)
    page.wait_for_function(
        "n => document.querySelector('[data-testid=camera-count]').textContent === String(n)",
        arg=everything,
    )
    page.goto(page.url.split("#")[0] + "#/fleet")
    first_col = "#fleet-body table:first-of-type tbody tr td:first-child"
    page.wait_for_selector(first_col)
    c01_zones = city.services.geo.zones.hierarchy.zones_under(["C01"])
    assert set(page.locator(first_col).all_inner_texts()) <= c01_zones
    page.select_option("#fleet-by", "centre_id")
    page.wait_for_function(
        "sel => [...document.querySelectorAll(sel)].map((td) => td.textContent).join() === 'C01'",
        arg=first_col,
    )
    # hand the incident to C02 through the dialog: it leaves this queue
    page.goto(page.url.split("#")[0] + "#/incidents")
    row = page.locator(f"#inc-body tr:has-text('{a[3]}')").first
    row.wait_for()
    inc_id = row.get_attribute("data-id")
    row.locator("button[data-act=handover]").click()
    page.wait_for_selector("[data-testid=handover-dialog]")
    page.select_option("[data-testid=handover-centre]", "C02")
    page.fill("[data-testid=handover-reason]", "the scene is on C02's side of the river")
    shot(page, "handover")
    page.click("[data-testid=handover-ok]")
    # it leaves the queue: at once, or greyed in place while the queue is held under the
    # pointer (the stable queue never moves a row the operator may be about to click)
    page.wait_for_function(
        "(id) => { const r = document.querySelector(`#inc-body tr[data-id='${id}']`);"
        " return !r || r.classList.contains('gone'); }",
        arg=inc_id,
    )
    # C02's operator (a browser session of their own) now has it, with the handover logged
    ctx = chromium.new_context(viewport={"width": 1400, "height": 860})
    try:
        other = ctx.new_page()
        other.set_default_timeout(15000)
        open_incidents(other, city, "op-c02")
        other.locator(f"#inc-body tr[data-id='{inc_id}']").wait_for()
        assert centres_shown(other) == {"C02"}
    finally:
        ctx.close()
    log = city.services.incidents.history(str(inc_id))
    assert [e["detail"]["to"] for e in log if e["action"] == "handover"] == ["C02"]


def test_a_city_wide_supervisor_sees_every_centre(page, city: DevCity):
    a, b = cams_of(city, "C01"), cams_of(city, "C02")
    city.publish_event(a[5], kind="intrusion", conf=0.9, track=601)
    city.publish_event(b[5], kind="intrusion", conf=0.9, track=602)
    open_incidents(page, city, "supervisor")
    for cam in (a[5], b[5]):
        page.locator(f"#inc-body tr:has-text('{cam}')").first.wait_for()
    assert centres_shown(page) >= {"C01", "C02"}


def test_live_updates_of_another_centre_never_reach_the_screen(page, city: DevCity):
    a, b = cams_of(city, "C01"), cams_of(city, "C02")
    open_incidents(page, city, "op-c01")
    city.publish_event(b[7], kind="intrusion", conf=0.9, track=701)
    city.publish_event(a[7], kind="intrusion", conf=0.9, track=702)
    # C01's event arrives live after C02's: had C02's been delivered, it would be there too
    page.locator(f"#inc-body tr:has-text('{a[7]}')").first.wait_for()
    assert page.locator(f"#inc-body tr:has-text('{b[7]}')").count() == 0


def test_shift_log_sign_on_and_note(page, city: DevCity):
    page.goto(city.url + "/ui/")
    login(page, "op-c02")
    page.goto(page.url.split("#")[0] + "#/centres")
    page.wait_for_selector("[data-testid=my-scope]")
    assert "C02" in page.inner_text("[data-testid=my-scope]")
    page.click("button[data-shift=sign_on]")
    page.wait_for_selector("[data-testid=shift-on-duty]:has-text('op-c02')")
    page.fill("[data-testid=shift-text]", "camera at the bridge flickers at dusk")
    page.click("button[data-shift=note]")
    page.wait_for_selector("[data-testid=shift-entry][data-kind=note]:has-text('flickers')")
    assert "op-c02" in page.inner_text("tr[data-centre=C02] [data-testid=on-duty]")
    shot(page, "centres")
    page.click("button[data-shift=sign_off]")
    page.wait_for_selector("[data-testid=shift-entry][data-kind=sign_off]")
