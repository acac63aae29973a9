"""Hall cases through the service: lifecycle, documents, deadlines, queues, receipts."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from coordinator.errors import Conflict, Invalid, NotFound, TooManyAttempts
from coordinator.hall import catalogue as cat
from coordinator.hall.cases import RECEIPT_RE, new_receipt
from coordinator.hall.lifecycle import Status
from coordinator.hall.service import ENQUIRY_MAX_MISSES

PDF = b"%PDF-1.4\n" + b"scan " * 100
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 300
PURPOSE = "counter A application"
HOUR = 3600.0


def _case(hall, **over):
    d = dict(service="visa_extension", applicant_name="Ahmed Karimi", nationality="AF",
             passport_number="P 1234567", requested_until="2026-09-30")  # fmt: skip
    d.update(over)
    return hall.apply("clerk-a", d, PURPOSE)


def _documents(hall, case):
    for doc in case["documents_required"]:
        hall.add_document("clerk-a", case["id"], doc, PDF if doc != "photo" else JPEG, f"{doc}.pdf")


def test_the_shipped_catalogue_is_valid_and_data():
    c = cat.load()
    codes = {s.code for s in c.services}
    assert {"visa_extension", "residence_permit_first", "residence_permit_renewal",
            "residence_permit_change", "accommodation_registration"} <= codes  # fmt: skip
    assert all(s.documents for s in c.services)


def test_a_catalogue_naming_an_unknown_counter_is_refused(tmp_path):
    raw = cat.DEFAULT_FILE.read_text().replace('"counter": "A"', '"counter": "Z"', 1)
    (tmp_path / "c.json").write_text(raw)
    with pytest.raises(ValueError, match="unknown counter Z"):
        cat.load(tmp_path / "c.json")


@pytest.mark.parametrize(
    ("start", "days", "want"),
    [
        (dt.date(2026, 6, 5), 1, dt.date(2026, 6, 8)),  # Friday + 1 = Monday
        (dt.date(2026, 6, 1), 7, dt.date(2026, 6, 10)),
        (dt.date(2026, 6, 18), 1, dt.date(2026, 6, 22)),  # over the Dragon Boat holiday
    ],
)
def test_working_days_skip_weekends_and_holidays(start, days, want):
    assert cat.add_working_days(start, days, frozenset(cat.load().holidays)) == want


def test_a_visa_extension_from_application_to_collection(hall, clock):
    c = _case(hall)
    assert re.fullmatch(RECEIPT_RE, c["receipt"])
    assert c["status"] == "applied" and c["passport_masked"] == "P123**67"
    # 7 working days from Monday 1 June: Wednesday 10 June, 17:30 Beijing time
    assert c["due_at"] == dt.datetime(2026, 6, 10, 9, 30, tzinfo=dt.UTC).timestamp()
    with pytest.raises(Conflict, match="documents missing: passport"):
        hall.step("clerk-a", c["id"], "documents_checked", None, PURPOSE)
    _documents(hall, c)
    for to in ("documents_checked", "under_review"):
        clock.t += HOUR
        c = hall.step("clerk-a", c["id"], to, None, PURPOSE)
    with pytest.raises(Invalid, match="validity end"):
        hall.decide("clerk-a", c["id"], True, "purpose of stay proven", None, PURPOSE)
    c = hall.decide("clerk-a", c["id"], True, "purpose of stay proven", "2026-09-30", PURPOSE)
    assert (c["status"], c["decision"], c["granted_until"]) == ("decided", "approved", "2026-09-30")
    c = hall.step("clerk-a", c["id"], "collected", None, PURPOSE)
    full = hall.get("clerk-a", c["id"], PURPOSE)
    assert [e["to_status"] for e in full["events"]] == [
        "applied", "documents_checked", "under_review", "decided", "collected"]  # fmt: skip
    assert full["closed_at"] == clock.t and len(full["documents"]) == 5


@pytest.mark.parametrize(
    ("frm", "to"),
    [("applied", "under_review"), ("applied", "collected"), ("documents_checked", "collected")],
)
def test_steps_out_of_order_are_refused(hall, clock, frm, to):
    c = _case(hall)
    if frm == "documents_checked":
        _documents(hall, c)
        hall.step("clerk-a", c["id"], frm, None, PURPOSE)
    with pytest.raises(Conflict, match="cannot become"):
        hall.step("clerk-a", c["id"], to, None, PURPOSE)
    assert hall.get("clerk-a", c["id"], PURPOSE)["status"] == frm


def test_refusal_and_withdrawal_need_reasons_and_close_the_case(hall, clock):
    a, b = _case(hall), _case(hall, passport_number="P7654321")
    with pytest.raises(Invalid, match="reason"):
        hall.decide("clerk-a", a["id"], False, "  ", None, PURPOSE)
    a = hall.decide("clerk-a", a["id"], False, "no proof of the purpose of stay", None, PURPOSE)
    assert (a["status"], a["decision_reason"]) == ("rejected", "no proof of the purpose of stay")
    with pytest.raises(Invalid, match="note"):
        hall.step("clerk-a", b["id"], "withdrawn", None, PURPOSE)
    b = hall.step("clerk-a", b["id"], "withdrawn", "leaving China on 3 June", PURPOSE)
    assert b["status"] == "withdrawn"
    with pytest.raises(Conflict):
        hall.add_document("clerk-a", b["id"], "passport", PDF, "p.pdf")


@pytest.mark.parametrize(
    ("over", "problem"),
    [
        ({"service": "tea_ceremony"}, "unknown service"),
        ({"nationality": "CN"}, "foreign nationals"),
        ({"nationality": "Afghanistan"}, "two-letter"),
        ({"passport_number": "ABC"}, "passport_number"),
        ({"applicant_name": " "}, "applicant_name"),
        ({"requested_until": "2026-02-30"}, "requested_until"),
        ({"visit_id": 999}, "no accommodation registration"),
    ],
)
def test_bad_applications_are_refused_and_nothing_is_kept(hall, clock, over, problem):
    with pytest.raises(Invalid, match=problem):
        _case(hall, **over)
    assert hall.db.query("select count(*) n from hall_cases")[0]["n"] == 0


def test_a_wrongly_typed_document_is_refused(hall, clock):
    c = _case(hall)
    with pytest.raises(Invalid, match="accepted types"):
        hall.add_document("clerk-a", c["id"], "passport", b"<html>not a scan</html>", "p.html")
    with pytest.raises(Invalid, match="unknown document kind"):
        hall.add_document("clerk-a", c["id"], "selfie", PDF, "p.pdf")
    assert hall.get("clerk-a", c["id"], PURPOSE)["documents"] == []


def test_document_reads_are_audited_and_bound_to_their_case(hall, clock, services):
    a, b = _case(hall), _case(hall, passport_number="P7654321")
    hall.add_document("clerk-a", a["id"], "passport", PDF, "passport.pdf")
    fid = hall.get("clerk-a", a["id"], PURPOSE)["documents"][0]["file_id"]
    meta, data = hall.read_document("clerk-b", a["id"], fid, "check the visa page")
    assert data == PDF and meta.content_type == "application/pdf"
    with pytest.raises(NotFound):
        hall.read_document("clerk-b", b["id"], fid, "check")
    rows = services.db.query(
        "select actor, purpose, subject_id from audit_log where action = 'file.read'"
    )
    assert rows == [{"actor": "clerk-b", "purpose": "check the visa page",
                     "subject_id": str(a["id"])}]  # fmt: skip


def test_deadline_alerts_come_once_and_end_with_the_decision(hall, clock):
    c = _case(hall)  # due Wednesday 10 June 09:30 UTC
    other = _case(hall, service="accommodation_registration", passport_number="P7654321")
    assert hall.sweep() == {"overdue": 0, "due_soon": 0}
    clock.t = dt.datetime(2026, 6, 2, 12, tzinfo=dt.UTC).timestamp()  # accommodation: 1 day
    assert hall.sweep() == {"overdue": 1, "due_soon": 0}
    clock.t = dt.datetime(2026, 6, 9, 12, tzinfo=dt.UTC).timestamp()
    assert hall.sweep() == {"overdue": 0, "due_soon": 1}
    assert hall.sweep() == {"overdue": 0, "due_soon": 0}  # raised once
    clock.t = dt.datetime(2026, 6, 10, 10, tzinfo=dt.UTC).timestamp()
    assert hall.sweep() == {"overdue": 1, "due_soon": 0}
    kinds = {(a["case_id"], a["kind"]) for a in hall.alerts("clerk-a", PURPOSE)}
    assert kinds == {(other["id"], "overdue"), (c["id"], "due_soon"), (c["id"], "overdue")}
    assert hall.get("clerk-a", c["id"], PURPOSE)["overdue"] is True
    hall.decide("clerk-a", c["id"], False, "passport invalid", None, PURPOSE)
    assert {a["case_id"] for a in hall.alerts("clerk-a", PURPOSE)} == {other["id"]}


def test_a_counters_queue_puts_the_earliest_deadline_first(hall, clock):
    late = _case(hall, service="stay_permit", passport_number="P1000001")  # 7 days
    clock.t += HOUR
    soon = _case(hall, service="exit_permit", passport_number="P1000002")  # 5 days
    permit = _case(hall, service="residence_permit_first", passport_number="P1000003")
    done = _case(hall, service="visa_replacement", passport_number="P1000004")
    _documents(hall, done)
    for to in ("documents_checked", "under_review"):
        hall.step("clerk-a", done["id"], to, None, PURPOSE)
    hall.decide("clerk-a", done["id"], True, "replacement issued", "2026-12-01", PURPOSE)
    q = hall.queue("clerk-a", "A", PURPOSE)
    assert [r["id"] for r in q] == [soon["id"], late["id"], done["id"]]
    assert [r["id"] for r in hall.queue("clerk-a", "B", PURPOSE)] == [permit["id"]]
    with pytest.raises(Invalid):
        hall.queue("clerk-a", "Q", PURPOSE)


def test_receipts_are_unguessable_and_unique():
    seen = {new_receipt() for _ in range(5000)}
    assert len(seen) == 5000 and all(re.fullmatch(RECEIPT_RE, r) for r in seen)


def test_the_status_enquiry_tells_no_personal_data_and_is_limited(hall, clock):
    c = _case(hall)
    got = hall.enquiry(c["receipt"].lower(), "203.0.113.9")
    assert got["status"] == "applied" and not got["ready_for_collection"]
    assert "Ahmed" not in str(got) and "1234567" not in str(got)
    for _ in range(ENQUIRY_MAX_MISSES):
        with pytest.raises(NotFound):
            hall.enquiry(new_receipt(), "203.0.113.9")
    with pytest.raises(TooManyAttempts) as exc:
        hall.enquiry(c["receipt"], "203.0.113.9")  # even a right one, once guessing began
    assert exc.value.retry_after_s and exc.value.retry_after_s > 0
    assert hall.enquiry(c["receipt"], "198.51.100.7")["receipt"] == c["receipt"]
    clock.t += 901
    assert hall.enquiry(c["receipt"], "203.0.113.9")["status"] == "applied"


def test_the_passport_number_is_encrypted_and_revealed_only_with_a_reason(hall, clock, services):
    c = _case(hall, passport_number="X98765432")
    raw = services.db.query("select passport_enc from hall_cases where id = ?", [c["id"]])[0]
    assert b"98765432" not in raw["passport_enc"]
    with pytest.raises(Invalid, match="reason"):
        hall.reveal_passport("clerk-a", c["id"], "")
    assert hall.reveal_passport("clerk-a", c["id"], "print the decision") == "X98765432"
    found = hall.find("clerk-a", "AF", "x9876 5432", PURPOSE)
    assert [r["id"] for r in found] == [c["id"]]
    assert hall.find("clerk-a", "PK", "X98765432", PURPOSE) == []  # another country's passport


def test_statuses_are_named_by_the_lifecycle():
    assert [s.value for s in Status] == ["applied", "documents_checked", "under_review",
                                         "decided", "collected", "rejected", "withdrawn"]  # fmt: skip


def test_an_accommodation_case_links_the_population_stay_and_its_24_hour_flag(
    hall, clock, services
):
    from tests.harness.population import officer

    pop, who = services.population, officer()
    pop.ctx.clock = clock
    person = pop.records.create_person(who, dict(
        name="Rahul Sharma", id_type="passport", id_number="K8000001", nationality="IN",
        dob="1988-08-08", sex="M", zone="Z01"), "counter")["person"]  # fmt: skip
    visit = pop.visitors.report(who, dict(
        person_id=person["id"], visa_type="M", visa_expiry="2026-09-30", host_kind="hotel",
        host_name="Futian Hotel", address="Futian 1", zone="Z01",
        arrived_at="2026-05-30T02:00:00Z"), "counter")  # fmt: skip
    with pytest.raises(Invalid, match="nationality differs"):
        _case(hall, service="accommodation_registration", person_id=person["id"])
    c = _case(hall, service="accommodation_registration", nationality="IN",
              passport_number="K8000001", visit_id=visit["id"])  # fmt: skip
    assert c["person_id"] == person["id"]
    stay = hall.get("clerk-a", c["id"], PURPOSE)["stay"]
    assert stay["id"] == visit["id"] and stay["late"] is True
    assert "reported_late" in stay["flags"]
