"""Camera owners in the browser, against the session's real city: a company's login sees
its own cameras and the incidents they raised and nothing else (no other screen, no other
owner's camera or incident); an operator asking an events-only camera for frames sees the
refusal in the page, in English and in Chinese."""

from __future__ import annotations

from coordinator.fleet.agreements import Level
from devtools.devcity import DevCity
from tests.harness.browser import login, shot
from tests.harness.mqtt import wait_for
from tests.harness.webjs import catalogue

EN = catalogue("en")
ZH = catalogue("zh-CN")


def _incident_of(city: DevCity, dev: str) -> str:
    return wait_for(
        lambda: (
            (
                r := city.services.db.query(
                    "select incident_id from events where dev = ? and incident_id is not null "
                    "order by t desc limit 1",
                    [dev],
                )
            )  # fmt: skip
            and r[0]["incident_id"]
        ),
        20,
        f"an incident of {dev}",
    )


def test_an_owner_sees_only_its_cameras_and_their_incidents(page, city: DevCity):  # noqa: ANN001
    owners = city.services.owners
    org = owners.org_of("owner")
    assert org is not None
    mine = [c["id"] for c in city.cameras if city.services.fleet.location(c["id"])["org_id"] == org]
    other = next(
        c["id"] for c in city.cameras[::-1]
        if city.services.fleet.location(c["id"])["org_id"] != org
    )  # fmt: skip
    assert mine
    city.publish_event(mine[-1], kind="intrusion", conf=0.93, track=901)
    city.publish_event(other, kind="intrusion", conf=0.93, track=902)
    own_inc, other_inc = _incident_of(city, mine[-1]), _incident_of(city, other)
    login(page, "owner")
    # Only the owner's page is offered, and it opens first.
    assert page.locator("#nav a").evaluate_all("as => as.map((a) => a.dataset.screen)") == [
        "my-org"
    ]
    page.wait_for_selector("[data-testid=my-camera]")
    shown = set(page.locator("[data-testid=my-camera]").evaluate_all(
        "rs => rs.map((r) => r.dataset.device)"))  # fmt: skip
    assert shown == set(mine) and other not in shown
    page.wait_for_selector(f"[data-testid=my-incident][data-incident='{own_inc}']")
    incs = page.locator("[data-testid=my-incident]").evaluate_all(
        "rs => rs.map((r) => r.dataset.incident)"
    )
    assert other_inc not in incs
    name = owners.org(org)["name"]
    assert page.inner_text("[data-testid=my-org-name]") == name
    shot(page, "owner-page")
    # Another screen by its address: refused in the page.
    page.goto(page.url.split("#")[0] + "#/incidents")
    page.wait_for_selector("[data-testid=forbidden]")
    page.goto(page.url.split("#")[0] + "#/fleet")
    page.wait_for_selector("[data-testid=forbidden]")
    assert page.locator("#inc-body").count() == 0


def _events_only_camera(city: DevCity) -> str:
    owners = city.services.owners
    return next(
        c["id"] for c in city.cameras[150:]
        if owners.agreement(c["id"])[0].level is Level.EVENTS
    )  # fmt: skip


def test_a_frame_request_to_an_events_only_camera_is_refused_in_the_page(page, city: DevCity):  # noqa: ANN001
    cam = _events_only_camera(city)
    city.publish_event(cam, kind="intrusion", conf=0.93, track=903)
    inc = _incident_of(city, cam)
    before = len(city.services.audit.search(action="denied", subject_id=inc))
    page.select_option("#lang", "en")
    login(page, "operator")
    base = page.url.split("#")[0]
    for lang, words in (("en", EN), ("zh-CN", ZH)):
        page.select_option("#lang", lang)
        page.goto(base + "#/incidents")
        page.reload()
        row = page.locator(f"#inc-body tr[data-id='{inc}']").first
        row.wait_for()
        row.locator("button[data-act=snapshot]").click()
        purpose = page.locator("[data-testid=purpose-dialog]")
        purpose.locator("[data-testid=purpose-field]").fill("核查报警 / alarm review")
        purpose.locator("[data-testid=dialog-ok]").click()
        refused = page.locator("[data-testid=refused][data-code=sharing_agreement]")
        refused.wait_for()
        assert words["incidents.refused_agreement"] in refused.inner_text()
        assert cam in refused.inner_text()  # the server's sentence names the camera
        if lang == "zh-CN":
            shot(page, "frames-refused-by-agreement")
    denied = city.services.audit.search(action="denied", subject_id=inc)
    assert len(denied) == before + 2 and all(d["actor"] == "operator" for d in denied[:2])
    assert not city.services.db.query("select 1 from snapshots where device_id = ?", [cam])


def test_the_rules_editor_shows_no_view_of_a_camera_not_sharing_live_view(page, city: DevCity):  # noqa: ANN001
    cam = _events_only_camera(city)
    login(page, "technician")
    page.goto(page.url.split("#")[0] + "#/rules")
    page.fill("[data-testid=rules-dev]", cam)
    page.click("#rules-open")
    msg = page.locator("[data-testid=rules-view-msg]")
    page.wait_for_function(
        "want => (document.querySelector('[data-testid=rules-view-msg]')?.textContent || '')"
        ".includes(want)",
        arg=EN["rules.view_refused_agreement"],
    )
    assert cam in msg.inner_text() and page.locator("[data-testid=rules-view]").count() == 0
    assert city.services.audit.search(action="denied", subject_id=cam)


def test_an_administrator_records_an_agreement_on_the_owners_screen(page, city: DevCity):  # noqa: ANN001
    owners = city.services.owners
    org = next(o for o in owners.orgs() if o["kind"] in ("school", "hospital", "community")
               and o["cameras"] and o["id"] != owners.org_of("owner"))  # fmt: skip
    login(page, "admin")
    page.goto(page.url.split("#")[0] + "#/owners")
    page.wait_for_selector("[data-testid=owners-table] tr[data-org]")
    page.fill("#owners-q", org["name"])
    page.click("#owners-filter button[type=submit]")
    page.wait_for_function(  # only the organisation asked for is left
        "() => document.querySelectorAll('[data-testid=owners-table] tbody tr').length === 1"
    )
    row = page.locator(f"tr[data-org='{org['id']}']")
    row.click()
    page.wait_for_selector("#agreement-form")
    assert page.inner_text("[data-testid=owner-name]") == org["name"]
    assert page.locator("[data-testid=owner-cameras] tbody tr").count() == org["cameras"]
    page.select_option("#agreement-form select[name=level]", "live")
    page.fill("#agreement-form input[name=hours_from]", "7")
    page.fill("#agreement-form input[name=hours_to]", "22")
    page.fill("#agreement-form input[name=retention_days]", "15")
    page.fill("#agreement-form input[name=agreed_by]", "陈校长")
    page.click("#agreement-form button[type=submit]")
    page.wait_for_selector("#owner-detail [data-testid=agreement][data-level=live]")
    shot(page, "owners")
    got = owners.org(org["id"])["agreement"]
    assert (got["level"], got["hours_from"], got["hours_to"], got["retention_days"]) == (
        "live", 7, 22, 15.0)  # fmt: skip
    entry = city.services.audit.search(action="sharing_agreement", subject_id=str(org["id"]))[0]
    assert entry["actor"] == "admin" and "陈校长" in entry["detail"]
