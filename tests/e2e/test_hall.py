"""The hall clerk's day in the dashboard alone: a visa extension from application to
collection, every step clicked in the hall screen, every request made by the page."""

from __future__ import annotations

import re

from devtools.devcity import DevCity
from tests.harness.browser import login, shot

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n" + b"scanned page " * 40
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x10" * 400
#: What each audited action of the clerk must have been asked for by the page.
ACTION_ROUTE = {
    "hall_apply": ("POST", r"/api/hall/cases$"),
    "file.store": ("PUT", r"/api/hall/cases/\d+/documents/\w+$"),
    "hall_documents_checked": ("POST", r"/api/hall/cases/\d+/step$"),
    "hall_under_review": ("POST", r"/api/hall/cases/\d+/step$"),
    "hall_decided": ("POST", r"/api/hall/cases/\d+/decision$"),
    "hall_collected": ("POST", r"/api/hall/cases/\d+/step$"),
}


def _status(page, status: str) -> None:  # noqa: ANN001
    page.wait_for_selector(f"[data-testid=hall-case][data-status={status}]")


def test_a_clerk_takes_a_visa_extension_from_application_to_collection(page, city: DevCity):
    sent: list[tuple[str, str]] = []
    page.on("request", lambda r: sent.append((r.method, r.url.split("?")[0].split(city.url)[-1])))
    login(page, "clerk")
    page.goto(page.url.split("#")[0] + "#/hall")
    page.wait_for_selector("[data-testid=hall-queue]")
    form = page.locator("#hall-apply")
    form.locator("select[name=service]").select_option("visa_extension")
    form.locator("input[name=applicant_name]").fill("Olena Kovalenko")
    form.locator("input[name=name_latin]").fill("KOVALENKO OLENA")
    form.locator("input[name=nationality]").fill("ua")
    form.locator("input[name=passport_number]").fill("FE 482913")
    form.locator("input[name=requested_until]").fill("2027-03-31")
    form.locator("button").click()
    _status(page, "applied")
    receipt = page.inner_text("[data-testid=hall-receipt]")
    assert re.fullmatch(r"HL(-[2-9A-HJ-NP-Z]{4}){4}", receipt)
    # A step before the documents are in is refused in the page, with the reason.
    page.click("[data-step=documents_checked]")
    page.wait_for_selector("#hall-case-error:has-text('documents missing')")
    docs = page.locator("[data-testid=hall-docs] tr[data-doc]")
    codes = [docs.nth(i).get_attribute("data-doc") for i in range(docs.count())]
    assert codes == [
        "passport",
        "application_form",
        "photo",
        "accommodation_proof",
        "purpose_proof",
    ]
    for code in codes:
        body, mime = (JPEG, "image/jpeg") if code == "photo" else (PDF, "application/pdf")
        name = f"{code}.{'jpg' if code == 'photo' else 'pdf'}"
        page.set_input_files(
            f"[data-file={code}]", files=[{"name": name, "mimeType": mime, "buffer": body}]
        )
        page.click(f"[data-upload={code}]")
        page.wait_for_selector(f"tr[data-doc={code}] .pill:has-text('{name}')")
    page.click("[data-step=documents_checked]")
    _status(page, "documents_checked")
    page.click("[data-step=under_review]")
    _status(page, "under_review")
    decide = page.locator("#hall-decide")
    decide.locator("input[name=reason]").fill("invitation letter and accommodation verified")
    decide.locator("input[name=granted_until]").fill("2027-03-31")
    decide.locator("button").click()
    _status(page, "decided")
    assert "invitation letter" in page.inner_text("[data-testid=hall-case]")
    shot(page, "hall")
    page.click("[data-step=collected]")
    _status(page, "collected")
    page.wait_for_selector(f"[data-testid=hall-queue]:not(:has-text('{receipt}'))")
    # The year's statistics, small counts suppressed (the demo's year of cases is seeded).
    page.click("#hall-stats-go")
    page.wait_for_selector("[data-testid=hall-stats] tbody tr")
    assert "UA" in page.inner_text("[data-testid=hall-stats]")

    db = city.services.db
    case = db.query("select id, status, decision, granted_until, clerk from hall_cases "
                    "where receipt = ?", [receipt])[0]  # fmt: skip
    assert (case["status"], case["decision"], case["granted_until"], case["clerk"]) == (
        "collected",
        "approved",
        "2027-03-31",
        "clerk",
    )
    # Every change the clerk made is in the audit log, and each was a request of the page.
    done = db.query(
        "select action from audit_log where actor = 'clerk' and action in "
        f"({', '.join('?' * len(ACTION_ROUTE))}) order by id",
        list(ACTION_ROUTE),
    )
    assert [d["action"] for d in done].count("file.store") == 5
    api_calls = [(m, p) for m, p in sent if p.startswith("/api/")]
    for action, (method, path) in ACTION_ROUTE.items():
        made = sum(1 for d in done if d["action"] == action)
        asked = sum(1 for m, p in api_calls if m == method and re.search(path, p))
        assert made >= 1 and asked >= made, (action, made, asked)
    # and the page asked for nothing else: the application, the refused early step, five
    # documents, two steps, the decision and the collection
    writes = [p for m, p in api_calls if m in ("POST", "PUT") and p.startswith("/api/hall/")]
    assert len(writes) == 1 + 1 + 5 + 2 + 1 + 1, writes


def test_an_officer_works_a_hotline_call_in_the_dashboard(page, city: DevCity):
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/hotline")
    page.wait_for_selector("[data-testid=hl-calls]")
    form = page.locator("#hl-log")
    form.locator("select[name=category]").select_option("wage_arrears")
    form.locator("input[name=caller_number]").fill("138 0013 8000")
    form.locator("input[name=caller_name]").fill("Wang Fang")
    form.locator("input[name=summary]").fill("three months of wages unpaid at a bag workshop")
    form.locator("button").click()
    row = page.locator("[data-testid=hl-calls] tr[data-call]:has-text('bag workshop')").first
    row.wait_for()
    assert "1380*****00" in row.inner_text() and "13800138000" not in page.inner_text("#view")
    row.locator("button[data-act=callback]").click()
    due = page.locator("#hl-due li[data-callback]").first
    due.wait_for()
    due.locator("button[data-act=done]").click()
    page.fill("#hl-ask-form input[name=v]", "employer agreed to pay on Friday")
    page.click("#hl-ask-form button.primary")
    page.wait_for_selector("#hl-due li[data-callback]", state="detached")
    row = page.locator("[data-testid=hl-calls] tr[data-call]:has-text('bag workshop')").first
    row.locator("button[data-act=reveal]").click()
    page.fill("#hl-ask-form input[name=v]", "call back about the wages")
    page.click("#hl-ask-form button.primary")
    assert page.inner_text("[data-testid=hl-number]") == "13800138000"
    row.locator("button[data-act=resolve]").click()
    page.fill("#hl-ask-form input[name=v]", "wages paid after mediation")
    page.click("#hl-ask-form button.primary")
    page.wait_for_selector(
        "[data-testid=hl-calls] tr[data-call]:has-text('bag workshop') [data-act=rate]"
    )
    shot(page, "hotline")
    reveal = city.services.db.query(
        "select actor, purpose from audit_log where action = 'hotline_reveal_number'"
    )
    assert reveal == [{"actor": "officer", "purpose": "call back about the wages"}]
