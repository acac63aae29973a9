"""The dashboard in Debian's Chromium against a real coordinator, broker and unit simulator."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from coordinator.incidents.evidence import verify_bundle
from devtools.devcity import DevCity, start_city
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for
from tests.harness.ring_board import ring_board


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCity]:
    """This module's own city: its queue is not the one other modules' tests filled."""
    c = start_city(
        tmp_path_factory.mktemp("dash-city"), cameras=300, units=8, population=400, market=300
    )
    yield c
    c.stop()


def test_wrong_password_is_refused_with_a_message(page):
    page.fill("input[name=username]", "operator")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    page.wait_for_selector("#login-error:has-text('wrong username or password')")
    assert page.is_visible("#login")


def test_nav_shows_only_what_the_role_may_open_and_refuses_other_urls(page):
    login(page, "merchant")
    assert page.locator("#nav a").all_inner_texts() == ["Check a company", "My trades"]
    page.goto(page.url.split("#")[0] + "#/population")
    page.wait_for_selector("[data-testid=forbidden]")
    assert "may not open" in page.inner_text("[data-testid=forbidden]")


def test_expired_session_returns_to_login_with_a_message(page, city: DevCity):
    login(page, "operator")
    city.services.db.execute_write("update sessions set expires_at = ?", [time.time() - 5])
    page.goto(page.url.split("#")[0] + "#/fleet")
    page.wait_for_selector("#login-error:has-text('session')")
    assert page.is_visible("#login")


def test_leaving_a_screen_while_it_loads_reports_no_error_on_the_next(page, city: DevCity):
    # The first screen (the map) is still loading when the operator opens the incidents.
    login(page, "dispatcher")
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#inc-body")
    page.wait_for_load_state("networkidle")
    assert page.locator("#view .error").count() == 0, page.inner_text("#view")


def test_map_draws_the_city_with_cameras_units_and_zones(page, city: DevCity):
    login(page, "dispatcher")
    page.goto(page.url.split("#")[0] + "#/map")
    page.wait_for_selector("#map-wrap[data-rendered]")
    assert page.inner_text("[data-testid=camera-count]") == str(len(city.cameras))
    assert int(page.get_attribute("#map-wrap", "data-cells")) > 10
    shot(page, "map")


def test_incident_from_a_board_event_is_confirmed_and_dispatched(page, city: DevCity):
    login(page, "dispatcher")
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#inc-body")
    cam = city.cameras[7]
    city.publish_event(cam["id"], kind="intrusion", conf=0.93, track=77)
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.wait_for()
    assert row.locator("[data-testid=status]").inner_text() == "new"
    row.locator("button[data-act=confirm]").click()
    page.wait_for_selector(
        f"#inc-body tr:has-text('{cam['id']}') [data-testid=status]:has-text('confirmed')"
    )
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.locator("button[data-act=recommend]").click()
    rec = row.locator("[data-testid=rec]").first
    rec.wait_for()
    assert "ETA" in rec.inner_text()
    # A live update redraws the row (a second event joins the incident: "Split…" appears);
    # the recommendations under it, and their Dispatch buttons, must survive the redraw.
    city.publish_event(cam["id"], kind="intrusion", conf=0.9, track=78)
    page.wait_for_selector(f"#inc-body tr:has-text('{cam['id']}') button[data-act=split]")
    assert page.locator(f"#inc-body tr:has-text('{cam['id']}') [data-testid=rec]").count() >= 1
    shot(page, "incidents")
    unit = rec.locator("button[data-dispatch]").get_attribute("data-dispatch")
    rec.locator("button[data-dispatch]").click()
    # the order's outcome is announced in the banner: a refusal must fail with its reason
    page.wait_for_selector("#banner:not([hidden])")
    assert "Order sent" in page.inner_text("#banner"), page.inner_text("#banner")
    page.wait_for_selector(
        f"#inc-body tr:has-text('{cam['id']}') [data-testid=status]:text-matches('dispatched|en route|on scene')"
    )
    # The simulated unit acknowledges over MQTT and drives off: the incident goes en route
    # (live, through the stream) and the unit leaves "available" on the status board.
    page.wait_for_selector(
        f"#inc-body tr:has-text('{cam['id']}') [data-testid=status]:text-matches('en route|on scene')",
        timeout=30000,
    )
    page.goto(page.url.split("#")[0] + "#/units")
    cell = page.locator(f"tr[data-unit='{unit}'] [data-testid=unit-status]")
    wait_for(
        lambda: cell.get_attribute("data-status") in ("dispatched", "en_route", "on_scene"),
        30,
        f"unit {unit} shown as working the order",
    )
    # KPI: false-alarm rate per camera, from the incidents this run formed. The box is
    # filled by its own request after the units table: wait for it, do not sample it.
    page.wait_for_selector("[data-testid=false-alarms] tr", timeout=30000)
    assert page.locator("[data-testid=false-alarms] tr").count() >= 1
    shot(page, "units")


def test_population_search_shows_masked_ids_and_is_audited(page, city: DevCity):
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.fill("#pop-search input[name=name]", "wang")
    page.click("#pop-search button")
    page.wait_for_selector("#pop-results .error:has-text('purpose')")  # no purpose, no search
    page.fill("#pop-search input[name=purpose]", "residence check, case 12")
    page.click("#pop-search button")
    page.wait_for_selector("[data-testid=pop-results]")
    text = page.inner_text("[data-testid=pop-results]")
    rows = page.locator("[data-testid=pop-results] tbody tr").count()
    assert rows >= 1 and "no match" not in text
    assert "*" in text  # ID numbers are masked in lists
    audit = city.services.audit.search(actor="officer")
    assert any(e["purpose"] == "residence check, case 12" for e in audit)
    shot(page, "population")


def test_merchant_check_of_a_vest_company_shows_the_aliased_warning(page, city: DevCity):
    login(page, "merchant")
    page.fill("#chk-q", city.market["vest_phone"])
    page.click("#chk button")
    page.wait_for_selector("[data-testid=check-result]")
    warnings = page.locator("[data-testid=warning]").all_inner_texts()
    assert any("via alias" in w and city.market["warned"] in w for w in warnings), warnings
    shot(page, "merchant-check")


def test_incident_appears_live_from_a_real_edge_agent(page, city: DevCity, tmp_path):
    """A real edge-agent subprocess (pose detector on a synthetic scene) → broker → ingest →
    incident → live stream → the operator's queue, without reloading the page."""
    from devtools.devcity import start_edge_agent

    login(page, "operator")
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#inc-body")
    proc = start_edge_agent(city, "cam-edge-e2e", tmp_path)
    try:
        page.wait_for_selector("#inc-body tr:has-text('cam-edge-e2e')", timeout=90000)
        assert page.get_attribute("#live", "data-state") == "on"
    finally:
        proc.terminate()
        proc.wait(30)


def test_lost_live_connection_reconnects_and_resyncs_without_reload(page, city: DevCity):
    """Tried: the coordinator ends every live stream (its "fell behind" path) while new stream
    connections are refused, an incident forms meanwhile, then connections are allowed again.
    The queue must show the missed incident without a page reload."""
    login(page, "operator")
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("#live[data-state=on]", state="attached")
    page.evaluate("window.__sameDocument = true")
    page.route("**/api/incidents-stream**", lambda route: route.abort())
    assert city.services.stream.end_all() >= 1
    page.wait_for_selector("#live[data-state=off]", state="attached", timeout=20000)
    cam = city.cameras[11]
    city.publish_event(cam["id"], kind="intrusion", conf=0.91, track=311)
    incidents = city.services.incidents
    # The incident exists before the browser may reconnect: only a resync can show it.
    wait_for(lambda: cam["id"] in str(incidents.search(limit=500)), 30, "incident formed")
    assert page.locator(f"#inc-body tr:has-text('{cam['id']}')").count() == 0
    page.unroute("**/api/incidents-stream**")
    page.wait_for_selector("#live[data-state=on]", state="attached", timeout=30000)
    page.wait_for_selector(f"#inc-body tr:has-text('{cam['id']}')", timeout=30000)
    assert page.evaluate("window.__sameDocument") is True  # resynced, not reloaded


def test_malformed_api_data_is_shown_as_an_error_not_a_blank_page(page, city: DevCity):
    """Tried: the fleet summary arrives as broken JSON (a misbehaving proxy in between)."""
    login(page, "operator")
    page.route(
        "**/api/fleet/summary**",
        lambda route: route.fulfill(status=200, body="{not json", content_type="application/json"),
    )
    page.goto(page.url.split("#")[0] + "#/fleet")
    page.wait_for_selector("#view .error:has-text('malformed')")
    assert page.is_visible("#nav")
    page.unroute("**/api/fleet/summary**")


def test_a_change_to_a_published_warning_waits_for_a_second_investigator(page, city: DevCity):
    """investigator2 edits the published warning; the public board keeps the approved text;
    investigator sees the pending change on the fraud screen and approves it there."""
    from coordinator.fraud.warning_desk import WarningEdit
    from coordinator.identity.auth import Principal, Role

    svc = city.services.fraud
    wid = city.market["warning_id"]
    chen = Principal(2, "investigator2", frozenset({Role.FRAUD_INVESTIGATOR}))
    svc.desk.update_warning(chen, wid, WarningEdit(severity="Extreme"))
    assert svc.desk.cap_alert(wid).info[0].severity == "Severe"  # not public yet
    login(page, "investigator")
    page.goto(page.url.split("#")[0] + "#/fraud")
    row = page.locator(f"tr[data-warning='{wid}']")
    row.locator("[data-testid=pending-change]").wait_for()
    assert "severity → Extreme" in row.inner_text() and "investigator2" in row.inner_text()
    row.locator("button[data-w=approve]").click()
    page.wait_for_selector(f"tr[data-warning='{wid}']:not(:has([data-testid=pending-change]))")
    alert = svc.desk.cap_alert(wid)
    assert alert.msgType == "Update" and alert.info[0].severity == "Extreme"


def test_incident_frames_show_with_boxes_and_export_downloads_a_bundle_that_verifies(
    page, city: DevCity, tmp_path: Path
):
    """The row's panel shows every frame of the incident with its event's box drawn by the
    browser over the JPEG as the board sent it; Export evidence downloads the zip."""
    # A government camera: it shares frames (most others' owners agreed to events only).
    cam = next(c["id"] for c in city.cameras[31:] if c["owner_type"] == "government")
    with ring_board(tmp_path / "board", city.mqtt_port, cam) as board:
        ids = board.emit(1, phase="start", track=5) + board.emit(1, phase="end", track=5)
        login(page, "operator")
        page.goto(page.url.split("#")[0] + "#/incidents")
        row = page.locator(f"#inc-body tr:has-text('{cam}')").first
        row.wait_for()
        row.locator("button[data-act=snapshot]").click()
        purpose = page.locator("[data-testid=purpose-dialog]")
        purpose.locator("[data-testid=purpose-field]").fill("ok")  # too short: it stays
        purpose.locator("[data-testid=dialog-ok]").click()
        assert "at least 3" in purpose.locator("[data-testid=dialog-error]").inner_text()
        purpose.locator("[data-testid=purpose-field]").fill("review of the gate alarm")
        purpose.locator("[data-testid=dialog-ok]").click()
        # the board's own two frames (its events may have joined a neighbour's open incident)
        mine = ", ".join(f"[data-testid=frame][data-event='{i}']" for i in ids)
        figs = page.locator(f"#inc-body tr:has-text('{cam}')").locator(mine)
        wait_for(lambda: figs.count() == 2, 20, "both frames")
        assert sorted(figs.nth(i).get_attribute("data-event") or "" for i in range(2)) == sorted(
            ids
        )
        boxes = figs.locator("[data-testid=box]")
        assert boxes.count() == 2 and boxes.first.get_attribute("height") == "700"
        # the image is the board's JPEG, untouched: its natural size is the ring's frame
        width = figs.first.locator("img").evaluate("i => i.naturalWidth")
        assert width == 160
        views = city.services.audit.search(action="view_snapshot")
        assert {v["purpose"] for v in views[:2]} == {"review of the gate alarm"}
        shot(page, "incident-frames")
        row = page.locator(f"#inc-body tr:has-text('{cam}')").first
        row.locator("button[data-act=evidence]").click()
        purpose = page.locator("[data-testid=purpose-dialog]")
        purpose.locator("[data-testid=purpose-field]").fill("hand-over, case 2026-114")
        with page.expect_download() as dl:
            purpose.locator("[data-testid=dialog-ok]").click()
        data = Path(dl.value.path()).read_bytes()
        assert verify_bundle(data) == []
        entry = city.services.audit.search(action="export_evidence")[0]
        assert entry["purpose"] == "hand-over, case 2026-114"
