"""A population officer's day in the dashboard alone, against a coordinator of this module:
register a person (and meet a known document, which opens the existing record), a house and
its landlord, a foreign visitor linked to the house and host, issue a permit, settle five
duplicates and undo one merge, and work a service request. Every request is the page's
own: the test records them and makes none itself."""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections.abc import Iterator
from urllib.parse import urlparse

import pytest

from coordinator.identity.auth import Role
from coordinator.population.importer import COLUMNS
from devtools.devcity import DEMO_PASSWORD, DevCity, start_city
from devtools.population_data import population, prc_id
from devtools.totp_codes import seeded_secret
from tests.harness.browser import login, shot
from tests.harness.population import person_data, twin_data


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevCity]:
    """This module's own city: the officer's work changes its records."""
    c = start_city(tmp_path_factory.mktemp("pop-city"), cameras=20, units=2, population=300)
    pop = c.services.population
    for n in range(5):  # five likely duplicates in the officer's zones
        pop.records.create_person("devcity", person_data(400 + n, zone="Z001"), "seed")
        pop.records.create_person("devcity", twin_data(400 + n, zone="Z001"), "seed")
    yield c
    c.stop()


def _eligible(city: DevCity) -> dict:
    """A seeded resident of the officer's zones whose registration counts for six months."""
    cut = (dt.date.today() - dt.timedelta(days=200)).isoformat()
    return city.services.db.query(
        "select p.id, p.name from pop_persons p join pop_registrations r on r.person_id = p.id "
        "where p.zone = 'Z002' and p.status = 'active' and r.status = 'registered' "
        "and r.counts_from < ? and not exists (select 1 from pop_permits m "
        "where m.person_id = p.id) order by p.id limit 1",
        [cut],
    )[0]


def _fill(page, form: str, values: dict[str, str]) -> None:  # noqa: ANN001
    for name, value in values.items():
        sel = f"{form} [name={name}]"
        if page.locator(sel).evaluate("e => e.tagName") == "SELECT":
            page.select_option(sel, value)
        else:
            page.fill(sel, value)


def test_an_officers_day_in_the_dashboard(page, city: DevCity):  # noqa: ANN001
    sent: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: (
            sent.append((r.method, urlparse(r.url).path)) if "/api/" in r.url else None
        ),  # fmt: skip
    )
    db = city.services.db
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.wait_for_selector("#pop-new-box")

    # 1. a landlord registered at the counter; the same document again opens that record
    landlord = {"name": "周建华", "id_type": "prc_id", "zone": "Z001",
                "id_number": prc_id(random.Random(5), "41", dt.date(1975, 4, 2), "M")}  # fmt: skip
    page.click("#pop-new-box summary")
    _fill(page, "#pop-new", {**landlord, "hukou_place": "9"})
    page.click("#pop-new button[type=submit]")
    err = page.locator("#pop-new [data-error-for=hukou_place]")
    err.wait_for()
    assert "6-digit" in err.inner_text()  # the server's problem, beside its field
    _fill(page, "#pop-new", {"hukou_place": ""})
    page.click("#pop-new button[type=submit]")
    card = page.locator("[data-testid=person-card]")
    card.wait_for()
    assert "周建华" in card.inner_text()
    landlord_id = int(card.get_attribute("data-person") or 0)
    page.click("#pop-new-box summary") if not page.is_visible("#pop-new") else None
    _fill(page, "#pop-new", {**landlord, "name": "周建花"})
    page.click("#pop-new button[type=submit]")
    page.locator("[data-testid=doc-exists]").wait_for()
    page.click("[data-testid=doc-exists] button[data-open]")
    page.wait_for_selector(f"[data-testid=person-card][data-person='{landlord_id}']")
    assert db.query("select count(*) n from pop_persons where name like '周建%'")[0]["n"] == 1

    # 2. the landlord's house
    page.click("[data-tab=houses]")
    page.wait_for_selector("#pop-house")
    assert page.input_value("#pop-house [name=landlord_id]") == str(landlord_id)
    _fill(page, "#pop-house", {"address": "稠城街道 工人北路 88号", "zone": "Z001", "rooms": "3"})
    page.click("#pop-house button[type=submit]")
    page.wait_for_selector("#pop-house .form-msg .ok")
    house = db.query("select id, landlord_id from pop_houses where address like '%88号'")[0]
    assert house["landlord_id"] == landlord_id

    # 3. a foreign visitor, staying with that house and its landlord
    page.click("[data-tab=counter]")
    page.click("#pop-new-box summary") if not page.is_visible("#pop-new") else None
    _fill(page, "#pop-new", {"name": "Ivan Petrov", "id_type": "passport", "id_number": "R7001234",
                             "nationality": "RU", "dob": "1979-11-23", "zone": "Z001"})  # fmt: skip
    page.click("#pop-new button[type=submit]")
    page.wait_for_selector("[data-testid=person-card]:has-text('Ivan Petrov')")
    visitor_id = int(page.get_attribute("[data-testid=person-card]", "data-person") or 0)
    page.click("[data-tab=houses]")
    page.wait_for_selector(f"#pop-visit select[name=house_id] option[value='{house['id']}']",
                           state="attached")  # fmt: skip
    page.select_option("#pop-visit select[name=house_id]", str(house["id"]))
    page.wait_for_selector(f"#pop-visit select[name=host_person_id] option[value='{landlord_id}']",
                           state="attached")  # fmt: skip
    arrived = page.evaluate(
        "() => new Date(Date.now() - 7200e3 - new Date().getTimezoneOffset() * 60e3)"
        ".toISOString().slice(0, 16)"
    )
    _fill(
        page, "#pop-visit", {"visa_type": "M", "visa_expiry": "2030-01-31", "arrived_at": arrived}
    )
    page.click("#pop-visit button[type=submit]")
    page.wait_for_selector("#pop-visit .form-msg .ok")
    visit = db.query("select * from pop_visitors where person_id = ?", [visitor_id])[0]
    assert (visit["house_id"], visit["host_person_id"], visit["host_name"]) == (
        house["id"], landlord_id, "周建华")  # fmt: skip
    page.wait_for_selector("[data-testid=pop-visits] tr:has-text('Ivan Petrov')")

    # 4. a permit for a resident registered long enough
    resident = _eligible(city)
    page.click("[data-tab=counter]")
    _fill(
        page,
        "#pop-search",
        {"name": resident["name"], "purpose": "permit application at the counter"},
    )
    page.click("#pop-search button")
    page.click(f"[data-testid=pop-results] tr[data-person='{resident['id']}'] button[data-open]")
    page.wait_for_selector(f"[data-testid=person-card][data-person='{resident['id']}']")
    page.click("[data-testid=person-card] button[data-act=issue]")
    page.wait_for_selector("[data-testid=eligibility] .ok")
    page.wait_for_selector("[data-testid=permits] li:not(.muted)")
    assert (
        db.query("select count(*) n from pop_permits where person_id = ?", [resident["id"]])[0]["n"]
        == 1
    )

    # 4b. the resident moves into the landlord's house: one request ends the old registration
    # and opens the new one
    old_regs = db.query("select id from pop_registrations where person_id = ? and "
                        "status = 'registered'", [resident["id"]])  # fmt: skip
    _fill(page, "#pop-reg[data-mode=move]", {"kind": "rented", "house_id": str(house["id"]),
                                             "note": "moved in with the landlord"})  # fmt: skip
    page.click("#pop-reg button[type=submit]")
    page.wait_for_selector(f"[data-testid=person-card] tr[data-registration='{old_regs[0]['id']}']"
                           ":has-text('moved out')")  # fmt: skip
    regs = db.query("select status, house_id from pop_registrations where person_id = ? "
                    "order by id", [resident["id"]])  # fmt: skip
    assert [r["status"] for r in regs] == ["moved_out"] * len(old_regs) + ["registered"]
    assert regs[-1]["house_id"] == house["id"]

    # 5. five duplicates settled (compared side by side first), one merge undone
    page.click("[data-tab=review]")
    rows = page.locator("[data-testid=pop-dups] tr[data-candidate]")
    rows.first.wait_for()
    assert rows.count() >= 5
    first = rows.first.get_attribute("data-candidate")
    rows.first.locator("button[data-compare]").click()
    page.wait_for_selector(f"[data-testid=dup-compare][data-candidate='{first}']")
    settled = []
    for i in range(5):
        row = page.locator("[data-testid=pop-dups] tr[data-candidate]").first
        cid = row.get_attribute("data-candidate")
        row.locator("button[data-merge]" if i < 3 else "button[data-notdup]").click()
        page.wait_for_selector(
            f"[data-testid=pop-dups] tr[data-candidate='{cid}']", state="detached"
        )
        settled.append(int(cid or 0))
    undo = page.locator("[data-testid=pop-merged] button[data-undo]").first
    undo.click()
    page.wait_for_selector("#pop-review-msg .ok")
    statuses = {r["id"]: r["status"] for r in db.query(
        f"select id, status from pop_dup_candidates where id in ({','.join('?' * 5)})", settled)}  # fmt: skip
    assert sorted(statuses.values()) == [
        "merged",
        "merged",
        "not_duplicate",
        "not_duplicate",
        "open",
    ]
    assert db.query("select count(*) n from pop_merges where undone_at is not null")[0]["n"] == 1

    # 6. a service request taken and worked to the end
    page.click("[data-tab=requests]")
    page.wait_for_selector("#pop-req")
    _fill(page, "#pop-req", {"channel": "walk_in", "category": "wage_arrears", "zone": "Z001",
                             "description": "工资拖欠三个月，请求协调", "contact_name": "陈静"})  # fmt: skip
    page.click("#pop-req button[type=submit]")
    req = page.locator("[data-testid=pop-requests] tr[data-request]").first
    req.wait_for()
    rid = req.get_attribute("data-request")
    for status, text in (("assigned", "officer"), ("in_progress", "called the employer"),
                         ("resolved", "wages paid after mediation"), ("closed", "")):  # fmt: skip
        form = page.locator(f"form[data-step='{rid}']")
        form.locator("select[name=status]").select_option(status)
        form.locator("input[name=text]").fill(text)
        if status == "closed":
            form.locator("select[name=satisfaction]").select_option("5")
        form.locator("button[type=submit]").click()
        page.wait_for_selector(f"[data-testid=pop-requests] tr[data-request='{rid}'] "
                               f"[data-testid=req-status]:has-text('{status.replace('_', ' ')}')")  # fmt: skip
    done = db.query("select status, satisfaction, resolution from pop_requests where id = ?", [rid])
    assert done == [
        {"status": "closed", "satisfaction": 5, "resolution": "wages paid after mediation"}
    ]
    shot(page, "population-officer")

    # every step was a request of the page (the test made none of its own)
    posts = [p for m, p in sent if m in ("POST", "PATCH")]
    P = "/api/population"
    expected = [f"{P}/persons", f"{P}/houses", f"{P}/visitors", f"{P}/persons/{resident['id']}/permits",
                f"{P}/persons/{resident['id']}/move",
                f"{P}/requests", f"{P}/requests/{rid}/status"]  # fmt: skip
    assert all(e in posts for e in expected), posts
    decisions = [
        p for p in posts if p.startswith(f"{P}/duplicates/") or p.startswith(f"{P}/merges/")
    ]
    assert len(decisions) == 6
    audit = city.services.audit.search(actor="officer", limit=2000)
    writes = {e["action"] for e in audit}
    assert {
        "create",
        "visitor_report",
        "permit_issue",
        "move",
        "merge",
        "unmerge",
        "not_duplicate",
    } <= writes
    assert page.is_hidden("#banner") or not page.inner_text("#banner").strip()


def test_break_the_glass_from_the_population_screen(page, city: DevCity):  # noqa: ANN001
    """A person outside the officer's zones: the counter offers to request access; the
    request reaches the data-access approver's queue; once approved the officer's screen
    shows the access and when it ends."""
    db = city.services.db
    outside = db.query("select id from pop_persons where zone = 'Z007' and status = 'active' "
                       "order by id limit 1")[0]["id"]  # fmt: skip
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.wait_for_selector("#pop-lookup")
    # the record is refused at the counter, with the way to ask for access
    page.click("[data-tab=access]")
    page.wait_for_selector("#pop-glass")
    _fill(page, "#pop-glass", {"reason": "short"})
    page.click("#pop-glass button[type=submit]")
    page.wait_for_selector("#pop-glass [data-error-for=reason]:not(:empty)")
    reason = "theft case 2026-3112: the suspect's landlord lives in zone Z007"
    _fill(page, "#pop-glass", {"reason": reason, "person_id": str(outside), "minutes": "30"})
    page.click("#pop-glass button[type=submit]")
    page.wait_for_selector("[data-testid=pop-glass] [data-testid=glass-state]:has-text('waiting')")
    assert page.is_visible("#pop-grants .muted")  # nothing granted yet
    # the approver decides in the Data access screen
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, "approver")
    page.goto(page.url.split("#")[0] + "#/access")
    row = page.locator(f"[data-testid=access-pending] tr:has-text('{reason[:20]}')")
    row.locator("button[data-decide=approve]").click()
    page.wait_for_selector("#acc-msg .ok")
    # back at the officer's screen: the access, and its expiry
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.click("[data-tab=access]")
    grant = page.locator("[data-testid=pop-grants] tr[data-grant]")
    grant.wait_for()
    g = db.query("select * from pop_glass_grants where username = 'officer'")[0]
    assert g["person_id"] == outside and round(g["expires_at"] - g["granted_at"]) == 1800
    assert grant.locator("[data-testid=grant-expires]").inner_text().strip()
    assert "approved" in page.inner_text("[data-testid=pop-glass]")
    assert city.services.population.access.zones  # the grant now opens the record:
    assert any(x["person_id"] == outside for x in city.services.population.access.active_grants(
        "officer"))  # fmt: skip


def test_an_import_batch_from_the_import_tab(page, city: DevCity):  # noqa: ANN001
    """A CSV of historical registrations uploaded in chunks from the Import tab: the report
    names the row whose document is on record (not created) and the bad row by line, with
    masked values; the officer asks for the batch's dates to be approved and a second officer
    approves them in the review tab."""
    db = city.services.db
    pop = city.services.population
    known = person_data(450, zone="Z001")
    pop.records.create_person("devcity", known, "seed")
    city.services.auth.create_user("officer2", DEMO_PASSWORD, [Role.POPULATION_OFFICER],
                                   zones=["Z001"], totp_secret=seeded_secret("officer2"))  # fmt: skip
    rows = [dict(r, valid_from="2024-03-01", kind="own", address=f"后宅街道 柳青路 {i + 1}号")
            for i, r in enumerate(population(3, seed=41, zones=["Z001"]))]  # fmt: skip
    bad_number = "110105194912310021"  # a wrong check digit
    rows.insert(1, {**known, "valid_from": "2024-03-01", "kind": "own", "address": "柳青路 9号"})
    rows.append({**rows[1], "id_number": bad_number, "name": "王错号"})
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=COLUMNS, extrasaction="ignore")
    w.writeheader()
    w.writerows(rows)
    body = buf.getvalue().encode("utf-8")

    sent: list[tuple[str, str]] = []
    page.on(
        "request",
        lambda r: sent.append((r.method, urlparse(r.url).path + "?" + urlparse(r.url).query)),
    )
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.click("[data-tab=import]")
    page.click("#pop-import button[type=submit]")  # no file chosen: said beside the field
    page.wait_for_selector("#pop-import [data-error-for=file]:not(:empty)")
    page.set_input_files("#pop-import [name=file]", files=[
        {"name": "register-2024.csv", "mimeType": "text/csv", "buffer": body}])  # fmt: skip
    page.click("#pop-import button[type=submit]")
    report = page.locator("[data-testid=import-report]")
    report.wait_for()
    job_id = int(report.get_attribute("data-job") or 0)
    count = {k: report.locator(f"[data-count={k}] b").inner_text()
             for k in ("records", "imported", "existing", "rejected")}  # fmt: skip
    assert count == {"records": "5", "imported": "3", "existing": "1", "rejected": "1"}
    existing = page.locator("[data-testid=import-existing] tr[data-line]")
    assert existing.count() == 1 and existing.get_attribute("data-line") == "3"
    errors = page.locator("[data-testid=import-errors] tr[data-line]")
    assert errors.count() == 1 and errors.get_attribute("data-line") == "6"
    shown = report.inner_text()
    assert bad_number not in shown and known["id_number"] not in shown and "王错号" not in shown
    assert db.query("select count(*) n from pop_persons where name = ? and status = 'active'",
                    [known["name"]])[0]["n"] >= 1  # fmt: skip
    # the batch's historical dates: asked with a reason, decided by a second officer
    page.fill("#pop-import-dates [name=reason]", "short")
    page.click("#pop-import-dates button[type=submit]")
    page.wait_for_selector("#pop-import-dates [data-error-for=reason]:not(:empty)")
    page.fill(
        "#pop-import-dates [name=reason]", "residence register of 2024 from the station books"
    )
    page.click("#pop-import-dates button[type=submit]")
    page.wait_for_selector("[data-testid=import-dates-state] .pill")
    job = db.query("select * from pop_import_jobs where id = ?", [job_id])[0]
    assert job["dates_state"] == "pending" and job["dates_requested_by"] == "officer"
    # the page's own requests: the upload opened, its bytes sent from offset 0, imported,
    # followed, the report read and the dates' approval asked
    P = "/api/population"
    paths = [f"{m} {u}" for m, u in sent if u.startswith(P)]
    assert any(x.startswith(f"PUT {P}/uploads/") and x.endswith("?offset=0") for x in paths), paths
    for want in (f"POST {P}/uploads?", f"GET {P}/import/{job_id}/errors?",
                 f"POST {P}/import/{job_id}/dates-approval?"):  # fmt: skip
        assert want in paths, paths
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, "officer2")
    page.goto(page.url.split("#")[0] + "#/population")
    page.click("[data-tab=review]")
    page.click(f"[data-testid=pop-approvals] tr[data-approval='{job['dates_approval_id']}'] "
               "button[data-approve]")  # fmt: skip
    page.wait_for_selector("#pop-review-msg .ok")
    job = db.query("select * from pop_import_jobs where id = ?", [job_id])[0]
    assert (job["dates_state"], job["dates_approved_by"]) == ("approved", "officer2")
    sent = db.query("select counts_from from pop_registrations where import_job_id = ?", [job_id])
    assert sent and all(r["counts_from"] == "2024-03-01" for r in sent)
