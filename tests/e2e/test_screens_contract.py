"""The screens that had drifted from the API, clicked through in Chromium: the fraud
screen's alias review and risk alerts, the population duplicate queue. What the screen
shows is compared with what the API answers to the same user."""

from __future__ import annotations

from typing import Any

import httpx

from devtools.devcity import DEMO_PASSWORD, DevCity
from tests.harness.api import bearer
from tests.harness.api import login as login_api
from tests.harness.browser import login, shot


def _api(city: DevCity, user: str, path: str, purpose: str | None = None) -> Any:
    """GET ``path`` as ``user`` (the expectation the screen is compared with)."""
    with httpx.Client(base_url=city.url, timeout=30) as c:
        headers = bearer(login_api(c, user, DEMO_PASSWORD))
        if purpose:
            headers["X-Purpose"] = purpose
        r = c.get(path, headers=headers)
        r.raise_for_status()
        return r.json()


def test_risk_alerts_show_the_cluster_companies_and_each_reason(page, city: DevCity):
    alerts = _api(city, "investigator", "/api/fraud/alerts")
    assert alerts, "the city has open risk alerts"
    login(page, "investigator")
    page.goto(page.url.split("#")[0] + "#/fraud")
    first = page.locator(f"[data-testid=fraud-alerts] tr[data-alert='{alerts[0]['id']}']")
    first.wait_for()
    names = ", ".join(c["display_name"] for c in alerts[0]["companies"])
    assert names and first.locator("[data-testid=alert-companies]").inner_text() == names
    shown = first.locator("[data-testid=alert-reasons] li").all_inner_texts()
    assert [s.split(" (+")[0] for s in shown] == [r["detail"] for r in alerts[0]["reasons"]]
    assert "[object Object]" not in page.inner_text("#fraud-body")
    shot(page, "fraud")


def test_alias_review_lists_the_links_and_confirms_one(page, city: DevCity):
    queue = _api(city, "investigator", "/api/fraud/links/review", purpose="test expectation")
    assert queue, "the city has alias links awaiting review"
    link = queue[0]
    login(page, "investigator")
    page.goto(page.url.split("#")[0] + "#/fraud")
    row = page.locator(f"[data-testid=fraud-links] tr[data-link='{link['id']}']")
    row.wait_for()
    assert link["a_name"] in row.inner_text() and link["b_name"] in row.inner_text()
    assert page.locator("[data-testid=fraud-links] tr[data-link]").count() == min(len(queue), 30)
    row.scroll_into_view_if_needed()
    shot(page, "fraud-alias-review")
    row.locator("button[data-dec=confirm]").click()
    page.wait_for_selector(
        f"[data-testid=fraud-links] tr[data-link='{link['id']}']", state="detached"
    )
    assert page.is_hidden("#banner"), page.inner_text("#banner")
    decided = city.services.db.query(
        "select decision, decided_by from fraud_links where id = ?", [link["id"]]
    )
    assert decided == [{"decision": "confirmed", "decided_by": "investigator"}]
    # The read of the queue is audited with the purpose the screen states.
    audit = city.services.audit.search(actor="investigator")
    assert any(e["purpose"] == "alias link review" for e in audit)


def test_duplicate_queue_shows_both_records_and_why(page, city: DevCity):
    queue = _api(city, "officer", "/api/population/duplicates?limit=20", purpose="expectation")
    assert queue, "the officer's zones hold duplicate candidates"
    login(page, "officer")
    page.goto(page.url.split("#")[0] + "#/population")
    page.click("[data-tab=review]")
    row = page.locator(f"[data-testid=pop-dups] tr[data-candidate='{queue[0]['id']}']")
    row.wait_for()
    reasons = row.locator("[data-testid=dup-reasons]").inner_text()
    assert reasons and reasons == ", ".join(queue[0]["reasons"])  # English: the server's words
    assert queue[0]["person"]["name"] in row.inner_text()
    assert queue[0]["other"]["name"] in row.inner_text()
    assert page.locator("[data-testid=pop-dups] tr[data-candidate]").count() == len(queue)
    shot(page, "population-duplicates")


#: What each screen shows once its answers are in: a hash navigation never reaches a new
#: "networkidle", so the tour waits for these before moving on (a reload would abort them).
READY = {
    "map": "#map-wrap[data-rendered]",
    "fleet": "#fleet-body .cards",
    "units": "#units-body table",
    "incidents": "#inc-body tr",
    "fraud": "#fraud-body table",
    "population": "#pop-search",
}


def _tour(page, city: DevCity) -> None:  # noqa: ANN001
    """Every screen, as the role that works it, with its everyday actions."""
    for user, screens in (
        ("dispatcher", ["map", "fleet", "units", "incidents"]),
        ("investigator", ["fraud"]),
        ("officer", ["population"]),
    ):
        page.evaluate("sessionStorage.clear()")
        page.goto(city.url + "/ui/")
        login(page, user)
        for screen in screens:
            page.goto(page.url.split("#")[0] + f"#/{screen}")
            page.wait_for_selector(READY[screen])
            page.wait_for_load_state("networkidle")
    cam = city.cameras[23]
    city.publish_event(cam["id"], kind="intrusion", conf=0.92, track=923)
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, "dispatcher")
    page.goto(page.url.split("#")[0] + "#/incidents")
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.locator("button[data-act=confirm]").click()
    page.wait_for_selector(
        f"#inc-body tr:has-text('{cam['id']}') [data-testid=status]:has-text('confirmed')"
    )
    row = page.locator(f"#inc-body tr:has-text('{cam['id']}')").first
    row.locator("button[data-act=recommend]").click()
    row.locator("[data-testid=rec] button[data-dispatch]").first.click()
    page.wait_for_selector("#banner:has-text('Order sent')")
    page.evaluate("sessionStorage.clear()")
    page.goto(city.url + "/ui/")
    login(page, "merchant")
    page.fill("#chk-q", city.market["vest_phone"])
    page.click("#chk button")
    page.wait_for_selector("[data-testid=check-result]")


def test_every_answer_the_dashboard_receives_matches_the_openapi_schema(page, city: DevCity):
    """A tour of every screen; each JSON answer is held to its operation's response schema
    (types, required fields, no field the schema does not declare)."""
    from tests.harness.webjs import load_generator, operation_for, schema_problems

    gen = load_generator()
    doc = gen.load_openapi()
    seen: list[tuple[str, str, int, Any]] = []

    def record(response) -> None:  # noqa: ANN001
        url = httpx.URL(response.url)
        if url.path.startswith("/api/") and "json" in (response.headers.get("content-type") or ""):
            seen.append((response.request.method, url.path, response.status, response.json()))

    page.on("response", record)
    _tour(page, city)
    page.remove_listener("response", record)
    problems = []
    checked = set()
    for method, path, status, body in seen:
        op = operation_for(doc, method, path)
        assert op is not None, f"{method} {path} is not in the OpenAPI document"
        if status >= 400:
            problems.append(f"{method} {path}: {status} {body}")
            continue
        answer = op["responses"].get(str(status)) or op["responses"].get("200") or {}
        schema = (answer.get("content") or {}).get("application/json", {}).get("schema")
        checked.add(f"{method} {path}")
        problems += [f"{method} {path}: {p}" for p in schema_problems(doc, schema, body)]
    assert len(checked) >= 15, "\n".join(sorted(checked))
    assert not problems, "\n".join(problems[:40])
