"""Published warnings as CAP 1.2 (JSON through the protocol's CapAlert, and XML) and Atom.

Pure: warning rows in, documents out. The JSON form is the protocol's ``CapAlert`` so the
retained MQTT board, the API and the XML all say the same thing.
"""

from __future__ import annotations

import datetime as dt
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from typing import Any, Literal

import msgspec

from protocol.messages import CapAlert, CapInfo, CapParameter

CAP_NS = "urn:oasis:names:tc:emergency:cap:1.2"
ATOM_NS = "http://www.w3.org/2005/Atom"
SENDER = "fraud-warnings@citywatch.yiwu"


def _iso(ts: float | None) -> str:
    """CAP dateTime: seconds precision with an explicit offset (no 'Z', per the standard)."""
    when = dt.datetime.fromtimestamp(ts or 0, dt.UTC).replace(microsecond=0)
    return when.isoformat()


def identifier(warning_id: int, version: int) -> str:
    """CAP identifier of one version of a warning (each update is a new message)."""
    return f"cw-fraud-{warning_id}-v{version}"


def to_cap(w: dict[str, Any], companies: list[str]) -> CapAlert:
    """The CAP alert of a warning row; ``companies`` = warned company then its aliases."""
    msg_type: Literal["Alert", "Update", "Cancel"] = (
        "Cancel"
        if w["state"] == "cancelled"
        else "Update"
        if w.get("msg_type") == "Update"
        else "Alert"
    )
    sent_ts = w["cancelled_ts"] if w["state"] == "cancelled" else w["updated_ts"]
    refs = None
    if msg_type != "Alert":
        refs = f"{SENDER},{identifier(w['id'], 1)},{_iso(w['published_ts'])}"
    params = [CapParameter(valueName="company", value=companies[0])] if companies else []
    params += [CapParameter(valueName="alias", value=n) for n in companies[1:63]]
    return CapAlert(
        identifier=identifier(w["id"], w["version"]) + ("-cancel" if msg_type == "Cancel" else ""),
        sender=SENDER,
        sent=_iso(sent_ts),
        status="Actual",
        msgType=msg_type,
        scope="Public",
        references=refs,
        info=[
            CapInfo(
                category=["Security"],
                event="Trade fraud warning",
                urgency="Expected",
                severity=w["severity"],
                certainty="Likely",
                senderName="Yiwu market police — economic-fraud early warning",
                headline=w["headline"],
                description=w["description"],
                instruction=w.get("instruction") or None,
                effective=_iso(w["published_ts"]),
                parameter=params,
            )
        ],
    )


def to_json(alert: CapAlert) -> bytes:
    """CAP JSON bytes."""
    return msgspec.json.encode(alert)


def to_xml(alert: CapAlert) -> bytes:
    """CAP 1.2 XML document (element order as in the schema)."""
    ET.register_namespace("", CAP_NS)

    def sub(parent: ET.Element, tag: str, text: str | None) -> None:
        if text is not None:
            ET.SubElement(parent, f"{{{CAP_NS}}}{tag}").text = text

    root = ET.Element(f"{{{CAP_NS}}}alert")
    for tag in ("identifier", "sender", "sent", "status", "msgType", "scope", "references"):
        sub(root, tag, getattr(alert, tag))
    for info in alert.info:
        el = ET.SubElement(root, f"{{{CAP_NS}}}info")
        sub(el, "language", info.language)
        for c in info.category:
            sub(el, "category", c)
        for tag in ("event", "urgency", "severity", "certainty"):
            sub(el, tag, getattr(info, tag))
        for tag in ("effective", "expires", "senderName", "headline", "description", "instruction"):
            sub(el, tag, getattr(info, tag))
        for p in info.parameter:
            pe = ET.SubElement(el, f"{{{CAP_NS}}}parameter")
            sub(pe, "valueName", p.valueName)
            sub(pe, "value", p.value)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def atom_feed(alerts: Iterable[tuple[CapAlert, str]], feed_url: str, updated: float) -> bytes:
    """Atom feed of alerts; each item pairs an alert with the URL of its CAP XML."""
    ET.register_namespace("", ATOM_NS)
    a = f"{{{ATOM_NS}}}"
    feed = ET.Element(f"{a}feed")
    ET.SubElement(feed, f"{a}id").text = feed_url
    ET.SubElement(feed, f"{a}title").text = "Yiwu market trade-fraud warnings"
    ET.SubElement(feed, f"{a}updated").text = _iso(updated)
    author = ET.SubElement(feed, f"{a}author")
    ET.SubElement(author, f"{a}name").text = "Yiwu market police"
    ET.SubElement(feed, f"{a}link", rel="self", href=feed_url)
    for alert, url in alerts:
        info = alert.info[0]
        entry = ET.SubElement(feed, f"{a}entry")
        ET.SubElement(entry, f"{a}id").text = f"urn:cap:{alert.identifier}"
        ET.SubElement(entry, f"{a}title").text = info.headline or info.event
        ET.SubElement(entry, f"{a}updated").text = alert.sent
        ET.SubElement(entry, f"{a}summary").text = info.description or ""
        ET.SubElement(entry, f"{a}link", rel="alternate", type="application/cap+xml", href=url)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)
