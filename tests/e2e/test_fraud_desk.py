"""The fraud desk in the dashboard alone: a merchant files a trade, records a payment and
sends a tip with a file; an investigator opens a case from a tip, reads its file, adds a
task and a note, and records the outcome. Each change the test checks in the database was
requested by the page (the test calls no API as that user)."""

from __future__ import annotations

import datetime as dt
import struct
import zlib
from pathlib import Path

from devtools.devcity import DevCity
from tests.harness.browser import login, shot
from tests.harness.ui_calls import ApiCalls


def _png(text: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
            + chunk(b"tEXt", b"note\x00" + text) + chunk(b"IDAT", zlib.compress(b"\x00\x00"))
            + chunk(b"IEND", b""))  # fmt: skip


def _count(city: DevCity, sql: str, *args: object) -> int:
    return int(city.services.db.query(sql, list(args))[0]["n"])


def _open(page, city: DevCity, user: str, screen: str) -> ApiCalls:  # noqa: ANN001
    calls = ApiCalls(page)
    login(page, user)
    page.goto(page.url.split("#")[0] + f"#/{screen}")
    return calls


def test_a_merchant_files_a_trade_records_a_payment_and_sends_a_tip(page, city: DevCity):  # noqa: ANN001
    mid = city.market["merchants"][0]
    filings = "select count(*) n from fraud_filings where merchant_id = ?"
    before = _count(city, filings, mid)
    calls = _open(page, city, "merchant", "merchant")
    form = page.locator("[data-testid=trade-form]")
    form.wait_for()
    form.locator("input[name=company_name]").fill("Sunrise Beads Trading Co., Ltd.")
    form.locator("input[name=company_phone]").fill("+86 139-5790-1234")
    form.locator("input[name=goods]").fill("glass beads")
    form.locator("input[name=quantity]").fill("5000")
    due = (dt.date.today() + dt.timedelta(days=30)).isoformat()
    form.locator("input[name=due_date]").fill(due)
    form.locator("input[name=amount]").fill("abc")
    form.locator("button[type=submit]").click()
    page.wait_for_function("() => document.querySelector('#trade-error').textContent.trim() !== ''")
    assert _count(city, filings, mid) == before  # a bad amount is refused in the form
    form.locator("input[name=amount]").fill("48000.00")
    form.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => [...document.querySelectorAll('[data-testid=my-filings] td')]"
        ".some((td) => td.textContent === 'glass beads')"
    )
    fid = city.services.db.query(
        "select id from fraud_filings where merchant_id = ? order by id desc limit 1", [mid]
    )[0]["id"]
    row = page.locator(f"tr[data-filing='{fid}']")
    row.locator("input[name=amount]").fill("48000")
    row.locator("input[name=paid_on]").fill(dt.date.today().isoformat())
    row.locator("button[type=submit]").click()
    page.wait_for_function(
        f"() => document.querySelector(\"tr[data-filing='{fid}'] [data-testid=filing-status]\")"
        "?.textContent === 'paid'"
    )
    tip = page.locator("[data-testid=tip-form]")
    tip.locator("input[name=company_name]").fill("Sunrise Beads Trading Co., Ltd.")
    tip.locator("textarea[name=text]").fill("The buyer asks for a second shipment on credit")
    tip.locator("input[name=files]").set_input_files(
        {"name": "chat.png", "mimeType": "image/png", "buffer": _png(b"chat log")}
    )
    tip.locator("button[type=submit]").click()
    page.wait_for_function(
        "() => document.querySelector('[data-testid=tip-done]').textContent"
        " || document.querySelector('[data-testid=tip-error]').textContent"
    )
    done = page.locator("[data-testid=tip-done]").inner_text()
    assert "sent" in done, page.locator("[data-testid=tip-error]").inner_text()
    page.locator("[data-testid=my-tips]").filter(has_text="chat.png").wait_for()
    shot(page, "merchant-en")
    # what the database holds, and that the page asked for each of it
    row_db = city.services.db.query("select * from fraud_filings where id = ?", [fid])[0]
    assert row_db["paid_cents"] == row_db["amount_cents"] == 4_800_000
    assert row_db["status"] == "paid" and _count(city, filings, mid) == before + 1
    tip_db = city.services.db.query(
        "select * from fraud_tips where reporter = 'merchant' order by id desc limit 1"
    )[0]
    [file_db] = city.services.db.query(
        "select * from fraud_attachments where tip_id = ?", [tip_db["id"]]
    )
    assert file_db["name"] == "chat.png" and file_db["uploaded_by"] == "merchant"
    writes = calls.writes()
    assert writes[("POST", "/api/fraud/filings")] == 2  # the refused one and the filed one
    assert writes[("POST", "/api/fraud/filings/{}/payments")] == 1
    assert writes[("POST", "/api/fraud/tips")] == 1
    assert writes[("POST", "/api/fraud/attachments")] == 1


def test_an_investigator_works_a_case_from_a_tip_to_its_outcome(page, city: DevCity):  # noqa: ANN001
    from coordinator.fraud.filings import TipIn
    from coordinator.identity.auth import Principal, Role

    svc = city.services.fraud
    # A merchant's tip with a file (arranged on the server: the investigator's work is tested)
    m = Principal(9, "merchant", frozenset({Role.MERCHANT}), merchant_id=city.market["merchants"][0],
                  perms=frozenset({"company:check", "merchant:file"}))  # fmt: skip
    tid = svc.workflow.add_tip(m, TipIn(text="Paid a deposit to a vest of a warned company"))
    evidence = _png(b"bank slip 2026")
    svc.attachments.add(m, tid, "slip.png", "image/png", evidence)
    calls = _open(page, city, "investigator", "cases")
    page.locator(f"button[data-open-tip='{tid}']").click()
    page.fill("#open-case-form input[name=title]", "Deposit paid to a vest")
    page.click("#open-case-form button[type=submit]")
    page.locator("[data-testid=case-title]").filter(has_text="Deposit paid to a vest").wait_for()
    case_id = svc.db.query("select case_id from fraud_tips where id = ?", [tid])[0]["case_id"]
    assert case_id and f"id={case_id}" in page.url
    assert "Paid a deposit" in page.locator("[data-testid=case-tip-text]").inner_text()
    with page.expect_download() as dl:
        page.click("button[data-download]")
    assert Path(dl.value.path()).read_bytes() == evidence
    page.fill("[data-testid=task-form] input[name=title]", "Call the buyer's bank")
    page.fill("[data-testid=task-form] input[name=assignee]", "investigator")
    page.click("[data-testid=task-form] button")
    page.locator("[data-testid=case-tasks] tr[data-task-row]").wait_for()
    page.click("[data-testid=case-tasks] button[data-task]")
    page.locator("[data-testid=task-state]").filter(has_text="done by").wait_for()
    page.fill("[data-testid=note-form] textarea", "Same bank account as the warned company")
    page.click("[data-testid=note-form] button")
    page.locator("[data-testid=case-note]").filter(has_text="Same bank account").wait_for()
    form = page.locator("[data-testid=outcome-form]")
    form.locator("select[name=outcome]").select_option("fraud_prevented")
    form.locator("input[name=losses]").fill("120000")
    form.locator("textarea[name=note]").fill("Merchants warned before the second shipment")
    form.locator("button[type=submit]").click()
    page.locator("[data-testid=case-status]").filter(has_text="closed").wait_for()
    shot(page, "case-en")
    case = svc.db.query("select * from fraud_cases where id = ?", [case_id])[0]
    assert case["outcome"] == "fraud_prevented" and case["losses_avoided_cents"] == 12_000_000
    assert case["closed_by"] == "investigator" and case["opened_by"] == "investigator"
    [task] = svc.db.query("select * from fraud_case_tasks where case_id = ?", [case_id])
    assert task["done_by"] == "investigator"
    [note] = svc.db.query("select * from fraud_case_notes where case_id = ?", [case_id])
    assert note["author"] == "investigator"
    reads = city.services.audit.search(action="file.read", actor="investigator")
    assert reads and reads[0]["purpose"]
    writes = calls.writes()
    assert writes[("POST", "/api/fraud/cases")] == 1
    assert writes[("POST", "/api/fraud/cases/{}/tasks")] == 1
    assert writes[("PATCH", "/api/fraud/cases/{}/tasks/{}")] == 1
    assert writes[("POST", "/api/fraud/cases/{}/notes")] == 1
    assert writes[("POST", "/api/fraud/cases/{}/outcome")] == 1
    assert ("GET", "/api/fraud/attachments/{}") in calls.calls
