"""The data-protection officer's audit screen in Debian's Chromium against the demo city:
the chain verifies, who accessed a person is listed, and the administrator has no such
screen."""

from __future__ import annotations

from devtools.devcity import DevCity
from tests.harness.browser import login, shot


def test_the_auditor_sees_the_verified_chain_and_who_accessed_a_person(page, city: DevCity):
    pid = city.services.db.query("select id from pop_persons order by id limit 1")[0]["id"]
    city.services.audit.record("officer", "view", "person", pid, purpose="residence check, case 31")
    login(page, "dpo")
    page.goto(page.url.split("#")[0] + "#/audit")
    page.wait_for_selector("[data-testid=audit-ok]")
    assert "signed checkpoints" in page.inner_text("[data-testid=audit-verify]")
    page.wait_for_selector("[data-testid=audit-unusual]")
    page.fill("#audit-person input", str(pid))
    page.click("#audit-person button")
    page.wait_for_selector("[data-testid=audit-accesses] tbody tr")
    text = page.inner_text("[data-testid=audit-accesses]")
    assert "officer" in text and "residence check, case 31" in text
    assert city.services.audit.search(actor="dpo", action="audit_read", subject_id=str(pid))
    shot(page, "audit")


def test_the_administrator_has_no_audit_screen(page):
    login(page, "admin")
    assert "Audit" not in page.locator("#nav a").all_inner_texts()
    page.goto(page.url.split("#")[0] + "#/audit")
    page.wait_for_selector("[data-testid=forbidden]")
