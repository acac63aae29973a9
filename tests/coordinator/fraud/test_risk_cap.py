"""Risk scoring and CAP/Atom output on literal inputs."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import msgspec

from coordinator.fraud import cap
from coordinator.fraud.risk import Facts, merge, score, should_alert
from protocol.messages import CapAlert


def test_clean_company_is_low_with_no_reasons() -> None:
    """No overdue, old company, no warnings: low, nothing to explain."""
    r = score(Facts(age_days=2000))
    assert (r.level, r.score, r.reasons) == ("low", 0, [])


def test_every_factor_is_explained() -> None:
    """Each contributing factor appears with its points and a readable detail."""
    r = score(
        Facts(
            overdue_count=3,
            overdue_amount_cny=500_000,
            overdue_merchants=frozenset({"m1", "m2"}),
            days_since_last_overdue=4,
            age_days=60,
            active_warnings=1,
        )
    )
    factors = {x["factor"] for x in r.reasons}
    assert factors == {
        "overdue_count",
        "overdue_amount",
        "reporting_merchants",
        "recency",
        "company_age",
        "linked_warnings",
    }
    assert r.level == "critical" and should_alert(r)
    assert abs(sum(x["points"] for x in r.reasons) - r.score) < 0.5


def test_more_merchants_score_higher() -> None:
    """Distinct reporting merchants raise the score (one merchant's grudge counts less)."""
    one = score(Facts(overdue_count=2, overdue_merchants=frozenset({"m1"})))
    two = score(Facts(overdue_count=2, overdue_merchants=frozenset({"m1", "m2"})))
    assert two.score > one.score


def test_cluster_facts_carry_the_warning_to_the_vest() -> None:
    """A young vest with no history inherits its alias's warning through the cluster."""
    vest = Facts(age_days=20)
    old = Facts(
        overdue_count=4,
        overdue_merchants=frozenset({"a", "b", "c"}),
        active_warnings=1,
        age_days=900,
    )
    assert score(vest).level == "low"
    merged = merge([vest, old])
    assert merged.members == 2 and merged.age_days == 20
    assert score(merged).level == "critical"


def _row(**kw):  # noqa: ANN003, ANN202
    base = {
        "id": 7,
        "version": 1,
        "state": "published",
        "msg_type": "Alert",
        "severity": "Severe",
        "headline": "Wobicha is Green Airline in a new vest",
        "description": "Orders, never pays.",
        "instruction": "Ask for payment before shipping.",
        "published_ts": 1_780_000_000.0,
        "updated_ts": 1_780_000_000.0,
        "cancelled_ts": None,
    }
    return {**base, **kw}


def test_cap_xml_is_cap_1_2_with_aliases() -> None:
    """The XML is in the CAP 1.2 namespace with the required elements and alias parameters."""
    alert = cap.to_cap(_row(), ["Green Airline", "Wobicha"])
    root = ET.fromstring(cap.to_xml(alert))
    ns = {"c": cap.CAP_NS}
    assert root.tag == f"{{{cap.CAP_NS}}}alert"
    for tag in ("identifier", "sender", "sent", "status", "msgType", "scope"):
        assert root.find(f"c:{tag}", ns) is not None, tag
    assert root.find("c:msgType", ns).text == "Alert"
    assert root.find("c:sent", ns).text.endswith("+00:00")
    values = [p.find("c:value", ns).text for p in root.iter(f"{{{cap.CAP_NS}}}parameter")]
    assert values == ["Green Airline", "Wobicha"]
    assert msgspec.json.decode(cap.to_json(alert), type=CapAlert) == alert


def test_cancel_and_update_reference_the_original() -> None:
    """An update or a cancel is a new CAP message that references the first one."""
    upd = cap.to_cap(_row(version=2, msg_type="Update"), ["X"])
    can = cap.to_cap(_row(state="cancelled", cancelled_ts=1_780_000_100.0), ["X"])
    assert upd.msgType == "Update" and upd.references.split(",")[1] == "cw-fraud-7-v1"
    assert can.msgType == "Cancel" and can.identifier == "cw-fraud-7-v1-cancel"


def test_atom_feed_lists_entries() -> None:
    """The Atom feed has one entry per alert linking to its CAP XML."""
    alert = cap.to_cap(_row(), ["Green Airline"])
    feed = ET.fromstring(cap.atom_feed([(alert, "http://x/7.cap.xml")], "http://x/feed", 1.0))
    entries = feed.findall(f"{{{cap.ATOM_NS}}}entry")
    assert len(entries) == 1
    assert entries[0].find(f"{{{cap.ATOM_NS}}}link").get("href") == "http://x/7.cap.xml"
