"""Bulk loading a generated market and full re-resolution keep investigators' decisions."""

from __future__ import annotations

from coordinator.container import Services
from coordinator.fraud.batch import re_resolve
from coordinator.identity.auth import Principal, Role
from devtools.fraud_data import generate, load_market

INV = Principal(user_id=1, username="inv-li", roles=frozenset({Role.FRAUD_INVESTIGATOR}))


def test_load_resolve_and_keep_decisions(services: Services) -> None:
    """A generated market loads; its vests share clusters with their originals; a rejected
    link stays rejected (and apart) across a full re-resolution; overdue filings are flagged."""
    svc = services.fraud
    m = generate(150, seed=5)
    stats = load_market(svc, m)
    assert stats["companies"] == len(m.companies) and stats["auto"] > 0
    cluster = {
        r["id"]: r["cluster_id"]
        for r in services.db.query("select id, cluster_id from fraud_companies")
    }
    vests = [c for c in m.companies if c.vest_of]
    assert vests and all(cluster[v.id] == cluster[v.vest_of] for v in vests)
    assert (
        services.db.query("select count(*) n from fraud_filings where status = 'overdue'")[0]["n"]
        > 0
    )
    # a vest with a single automatic link (to its original): rejecting it must split them
    link = services.db.query(
        "select l.id, l.a, l.b from fraud_links l where l.proposed = 'auto' and "
        "(select count(*) from fraud_links m where m.proposed = 'auto' and "
        " (m.a in (l.a, l.b) or m.b in (l.a, l.b))) = 1 limit 1"
    )[0]
    svc.workflow.decide_link(INV, link["id"], "reject")

    def apart() -> bool:
        cl = {
            r["id"]: r["cluster_id"]
            for r in services.db.query("select id, cluster_id from fraud_companies")
        }
        return cl[link["a"]] != cl[link["b"]]

    assert apart()
    again = re_resolve(svc)
    assert again["auto"] == stats["auto"]
    row = services.db.query("select decision from fraud_links where id = ?", [link["id"]])[0]
    assert row["decision"] == "rejected"
    assert apart()


def test_scheduled_sweep_flags_overdue_without_being_asked(services: Services) -> None:
    """The composition root puts the overdue sweep on the one scheduler: run at start and
    every few minutes, it marks a filing overdue once its due date passes (no API call)."""
    import datetime as dt

    from coordinator.bootstrap import start_jobs
    from coordinator.fraud.filings import CompanyIn, FilingIn
    from coordinator.fraud.service import MerchantIn
    from tests.harness.mqtt import wait_for

    svc = services.fraud
    svc.create_merchant(INV, MerchantIn(id="m-9", name="Booth 9"))
    merchant = Principal(
        user_id=9, username="m9", roles=frozenset({Role.MERCHANT}), merchant_id="m-9"
    )
    due = dt.date.today() + dt.timedelta(days=5)
    fid = svc.file(
        merchant,
        FilingIn(
            company=CompanyIn(names=["Late Payer Co"]),
            goods="socks",
            quantity=5,
            amount="900",
            due_date=due,
        ),
    )["id"]
    assert svc.my_filing(merchant, fid)["status"] == "open"
    svc.today = lambda: due + dt.timedelta(days=2)  # the clock a week ahead
    start_jobs(services)  # closed with the services
    wait_for(lambda: svc.my_filing(merchant, fid)["status"] == "overdue", 10, "sweeper")
    assert svc.my_filing(merchant, fid)["needs_confirmation"] == 1


def test_cluster_facts_read_the_clusters_filings_not_every_overdue_filing(
    services: Services,
) -> None:
    """The merchant check's hot path: SQLite must start from the cluster's companies and use
    (company_id, status); driving from the status index reads every overdue filing in the
    city (the plan SQLite picked on its own, 4,000x slower at 1 M filings)."""
    svc = services.fraud
    load_market(svc, generate(150, seed=5))
    seen: list[str] = []
    reader = services.db.read()
    reader.conn.set_trace_callback(seen.append)
    try:
        cl = services.db.query("select cluster_id from fraud_companies limit 1")[0]["cluster_id"]
        svc.assessment.cluster_facts(cl)
    finally:
        reader.conn.set_trace_callback(None)
    sql = next(s for s in seen if "fraud_filings" in s)
    plan = " ".join(r[3] for r in reader.conn.execute("explain query plan " + sql))
    assert "fraud_filings_company" in plan and "fraud_filings_due" not in plan, plan
