"""The camera-rules editor in Chromium: draw a zone with the pointer on the camera's frame,
move a point, save it as a revision with a reason, roll back — checked at the centre."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devtools.devcity import DevCity, start_city
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCity]:
    """This module's own city: other modules' tests change owners' sharing agreements."""
    c = start_city(tmp_path_factory.mktemp("rules-city"), cameras=300, units=8)
    yield c
    c.stop()


def _click(page, box, x: float, y: float) -> None:  # noqa: ANN001
    page.mouse.click(box["x"] + x * box["width"], box["y"] + y * box["height"])


def test_a_technician_draws_a_zone_saves_it_and_rolls_back(page, city: DevCity):
    dev = city.cameras[3]["id"]
    rules = city.services.camrules
    before = rules.current(dev)
    assert before is not None
    login(page, "technician")
    page.goto(page.url.split("#")[0] + "#/rules")
    page.fill("[data-testid=rules-dev]", dev)
    page.click("#rules-open")
    page.wait_for_selector(f"tr[data-rev='{before['rev']}']")
    page.select_option("#rules-kind", "intrusion")
    page.click("#rules-add")
    svg = page.locator("[data-testid=rules-canvas]")
    box = svg.bounding_box()
    assert box is not None
    for x, y in ((0.1, 0.2), (0.5, 0.2), (0.5, 0.8), (0.1, 0.8)):
        _click(page, box, x, y)
    assert page.locator("[data-testid=rules-canvas] circle").count() == 4
    # Drag the third point to the frame's bottom-right corner.
    page.mouse.move(box["x"] + 0.5 * box["width"], box["y"] + 0.8 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] - 1, box["y"] + box["height"] - 1, steps=5)
    page.mouse.up()
    page.fill("#rules-name", "depot-gate")
    page.fill("#rules-reason", "depot gate drawn on site")
    page.click("#rules-save")
    page.wait_for_selector(f"tr[data-rev='{before['rev'] + 1}']")
    saved = rules.current(dev)
    assert saved["rev"] == before["rev"] + 1 and saved["author"] == "technician"
    gate = next(z for z in saved["rules"]["zones"] if z["name"] == "depot-gate")
    assert gate["rule"] == "intrusion" and len(gate["points"]) == 4
    assert gate["points"][0] == [0.1, 0.2] and gate["points"][2][0] > 0.98
    # Every zone the camera had is still there.
    names = {z["name"] for z in saved["rules"]["zones"]}
    assert {z["name"] for z in before["rules"]["zones"]} < names
    shot(page, "camera-rules")
    page.click(f"button[data-rollback='{before['rev']}']")
    page.wait_for_selector(f"tr[data-rev='{before['rev'] + 2}']")
    back = wait_for(lambda: rules.current(dev), 5, "rollback stored")
    assert back["rolled_back_to"] == before["rev"] and back["rules"] == before["rules"]
    assert "depot-gate" not in page.inner_text("#rules-shapes")


def test_an_operator_reads_rules_but_cannot_change_them(page, city: DevCity):
    login(page, "operator")
    page.goto(page.url.split("#")[0] + "#/rules")
    page.fill("[data-testid=rules-dev]", city.cameras[4]["id"])
    page.click("#rules-open")
    page.wait_for_selector("[data-testid=rules-status]")
    assert page.locator("#rules-save").count() == 0 and page.locator("#rules-add").count() == 0


def test_the_editor_draws_on_the_cameras_current_view(page, city: DevCity, tmp_path):
    from devtools.devcity import start_edge_agent

    dev = "cam-view-01"
    proc = start_edge_agent(city, dev, tmp_path)  # a real board: synthetic scene, 640x480
    try:
        # Running: its events (the demo camera's rules raise them) reach the centre.
        wait_for(
            lambda: city.services.db.query("select count(*) n from events where dev = ?", [dev])[0][
                "n"
            ],
            90,
            "the board's first events",
        )
        login(page, "technician")
        page.goto(page.url.split("#")[0] + "#/rules")
        page.fill("[data-testid=rules-dev]", dev)
        page.click("#rules-open")
        page.wait_for_function(  # a function, not an expression: the page's CSP forbids eval
            "() => document.querySelector('[data-testid=rules-view]') || "
            "(document.querySelector('[data-testid=rules-view-msg]') || {}).textContent"
            "?.startsWith('No current view')",
            timeout=30000,
        )
        assert page.locator("[data-testid=rules-view]").count() == 1, page.inner_text(
            "[data-testid=rules-view-msg]"
        )
        img = page.locator("[data-testid=rules-view]")
        first = img.get_attribute("data-req")
        row = city.services.db.query(
            "select device_id, event_id, incident_id, status, width, height, requested_by, "
            "purpose from snapshots where req = ?",
            [first],
        )[0]
        # A fresh frame asked from the board (no event, no incident), stored as sent.
        assert row["event_id"] is None and row["incident_id"] is None and row["status"] == "ok"
        assert (row["width"], row["height"]) == (640, 480) and row["requested_by"] == "technician"
        # The canvas takes the view's aspect ratio; the image is drawn whole, unaltered.
        svg = page.locator("[data-testid=rules-canvas]")
        assert svg.get_attribute("height") == "480" and svg.get_attribute("width") == "640"
        assert img.get_attribute("width") == "640" and img.get_attribute("height") == "480"
        assert img.get_attribute("href").startswith("blob:")
        assert "as the camera sent it" in page.inner_text("[data-testid=rules-view-msg]")
        # Both the request and the view are audited, with the stated purpose.
        audit = city.services.audit.search(subject_id=dev, action="request_view")
        assert audit and audit[0]["actor"] == "technician" and "camera rules" in audit[0]["purpose"]
        assert city.services.audit.search(subject_id=first, action="view_snapshot")
        # Shapes still draw over it with the pointer.
        page.select_option("#rules-kind", "intrusion")
        page.click("#rules-add")
        box = svg.bounding_box()
        assert box is not None
        _click(page, box, 0.2, 0.2)
        assert page.locator("[data-testid=rules-canvas] circle").count() == 1
        page.click("#rules-view-refresh")
        wait_for(
            lambda: page.get_attribute("[data-testid=rules-view]", "data-req") != first,
            30,
            "a new view after refresh",
        )
        shot(page, "camera-rules-live-view")
    finally:
        proc.terminate()
        proc.wait(30)


def test_a_camera_that_shares_no_frames_shows_no_view(page, city: DevCity):
    # A government camera: its owner's agreement shares everything, its own terms nothing.
    dev = next(c["id"] for c in city.cameras[5:] if c["owner_type"] == "government")
    city.services.fleet.set_sharing(dev, "none")
    login(page, "technician")
    page.goto(page.url.split("#")[0] + "#/rules")
    page.fill("[data-testid=rules-dev]", dev)
    page.click("#rules-open")
    page.wait_for_function(
        "() => (document.querySelector('[data-testid=rules-view-msg]')?.textContent || '')"
        ".includes('share')"
    )
    assert page.locator("[data-testid=rules-view]").count() == 0
    assert "does not share evidence frames" in page.inner_text("[data-testid=rules-view-msg]")
