"""The camera-rules editor in Chromium: draw a zone with the pointer on the camera's frame,
move a point, save it as a revision with a reason, roll back — checked at the centre."""

from __future__ import annotations

from devtools.devcity import DevCity
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for


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
