// @ts-check
// Taking a call (never prompt()): the in-page dialog a call-taker fills while on the phone —
// what happened, where (a click on the city map, or a patrol zone when the caller can only
// name the area), what the caller named, a call note, and optionally a raised priority with
// its reason. The caller's number is not asked for and not kept. One request id per opened
// dialog makes a double click or a retry after a network error record one incident. A refusal
// of the server is shown in the dialog, which stays open with everything typed.
import { geographyGetRoads, geographyGetZones, incidentsTakeCall } from "./api_client.js";
import { html, render } from "./html.js";
import { label, t } from "./i18n.js";
import { CityMap } from "./map/citymap.js";

/** @typedef {import("./api_client.js").Incident} Incident */
/** @typedef {import("./api_client.js").PhoneReport} PhoneReport */

/** The kinds a call may report (the kinds that open an incident). */
export const CALL_KINDS = ["intrusion", "crowd", "loitering", "line_crossing"];

/** A new client request id (letters, digits and dashes, as the API asks). */
const requestId = () => (crypto.randomUUID ? crypto.randomUUID() : `${Date.now()}-${Math.random().toString(36).slice(2)}`);

/** @param {HTMLFormElement} form @param {string} name */
const field = (form, name) => String(new FormData(form).get(name) || "").trim();

/**
 * The call as the API takes it, or the message saying what is missing.
 * @param {HTMLFormElement} form @param {CityMap} map @param {string} rid
 * @returns {{ body?: PhoneReport, error?: string }}
 */
export function readCall(form, map, rid) {
  const zone = field(form, "zone");
  if (!map.pin && !zone) return { error: t("calls.need_place") };
  /** @type {PhoneReport} */
  const body = { kind: field(form, "kind"), request_id: rid };
  if (zone) body.zone = zone;
  else if (map.pin) { body.lat = map.pin.lat; body.lon = map.pin.lon; }
  const landmark = field(form, "landmark"), note = field(form, "note");
  if (landmark) body.landmark = landmark;
  if (note) body.note = note;
  const priority = field(form, "priority");
  if (priority) {
    const why = field(form, "priority_reason");
    if (why.length < 3) return { error: t("calls.need_priority_reason") };
    body.priority = Number(priority);
    body.priority_reason = why;
  }
  return { body };
}

/** @param {{ features?: any[] } | null} zones @returns {Array<{ id: string, name: string }>} */
const patrolZones = (zones) => (zones?.features || [])
  .map((f) => f.properties || {})
  .filter((p) => p.kind === "patrol" && p.id)
  .map((p) => ({ id: String(p.id), name: String(p.name || p.id) }))
  .sort((a, b) => a.id.localeCompare(b.id));

function body() {
  const kinds = CALL_KINDS.map((k) => html`<option value="${k}">${label("alarms.kind.", k)}</option>`);
  const levels = [1, 2, 3, 4].map((p) => html`<option value="${p}">${t("incidents.priority", { p })}</option>`);
  return html`<label>${t("calls.kind")} <select name="kind" data-testid="call-kind" required>${kinds}</select></label>
    <p class="muted">${t("calls.place_help")}</p>
    <div class="map-wrap call-map"><canvas class="call-base"></canvas><canvas class="call-top" data-testid="call-map"></canvas></div>
    <p data-testid="call-place" class="muted">${t("calls.no_place")}</p>
    <label>${t("calls.zone")} <select name="zone" data-testid="call-zone"><option value="">${t("calls.zone_none")}</option></select></label>
    <label>${t("calls.landmark")} <input name="landmark" maxlength="200" data-testid="call-landmark"></label>
    <label>${t("calls.note")} <textarea name="note" rows="3" maxlength="2000" data-testid="call-note"></textarea></label>
    <p class="muted">${t("calls.no_numbers")}</p>
    <label>${t("calls.priority")} <select name="priority" data-testid="call-priority">
      <option value="">${t("calls.priority_model")}</option>${levels}</select></label>
    <label>${t("calls.priority_reason")} <input name="priority_reason" maxlength="500" data-testid="call-priority-reason"></label>`;
}

/**
 * Open the dialog; resolves with the recorded incident, or null when cancelled.
 * @returns {Promise<Incident | null>}
 */
export async function takeCall() {
  const dlg = document.createElement("dialog");
  dlg.className = "form-dialog call-dialog";
  dlg.dataset.testid = "call-dialog";
  render(dlg, html`<form method="dialog"><h2>${t("calls.title")}</h2>${body()}
    <p class="dialog-error" data-testid="dialog-error" role="alert"></p>
    <menu><button value="cancel" data-testid="dialog-cancel" formnovalidate>${t("alarms.dialog.cancel")}</button>
    <button value="ok" class="primary" data-testid="call-save">${t("calls.save")}</button></menu></form>`);
  document.body.append(dlg);
  const form = /** @type {HTMLFormElement} */ (dlg.querySelector("form"));
  const error = /** @type {HTMLElement} */ (dlg.querySelector(".dialog-error"));
  const place = /** @type {HTMLElement} */ (dlg.querySelector("[data-testid=call-place]"));
  const zoneSel = /** @type {HTMLSelectElement} */ (dlg.querySelector("select[name=zone]"));
  const save = /** @type {HTMLButtonElement} */ (dlg.querySelector("[data-testid=call-save]"));
  const map = new CityMap(/** @type {HTMLCanvasElement} */ (dlg.querySelector(".call-base")),
    /** @type {HTMLCanvasElement} */ (dlg.querySelector(".call-top")));
  for (const layer of ["cameras", "units", "incidents"]) map.layers[layer] = false;
  dlg.showModal();
  const undo = map.interact(() => {
    const [lon, lat] = map.at(map.lastClick[0], map.lastClick[1]);
    map.pin = { lon, lat };
    zoneSel.value = "";
    place.textContent = t("calls.picked", { lat: lat.toFixed(5), lon: lon.toFixed(5) });
    map.drawDynamic();
  });
  zoneSel.addEventListener("change", () => {
    if (!zoneSel.value) return;
    map.pin = null; map.drawDynamic();
    place.textContent = t("calls.in_zone", { zone: zoneSel.value });
  });
  const rid = requestId();
  /** @type {Incident | null} */
  let made = null;
  form.addEventListener("submit", (e) => {
    const submitter = /** @type {HTMLButtonElement | null} */ (/** @type {SubmitEvent} */ (e).submitter);
    if (submitter?.value !== "ok") return;
    e.preventDefault();
    const out = readCall(form, map, rid);
    if (!out.body) { error.textContent = out.error || ""; return; }
    save.disabled = true;
    error.textContent = "";
    incidentsTakeCall(out.body).then((inc) => { made = inc; dlg.close("ok"); })
      .catch((err) => { error.textContent = t("calls.refused", { error: err.message }); })
      .finally(() => { save.disabled = false; });
  });
  const closed = new Promise((resolve) => {
    dlg.addEventListener("close", () => {
      undo();
      dlg.remove();
      resolve(made);
    }, { once: true });
  });
  // The streets and zones arrive while the call-taker already types the kind and the note.
  const [zones, roads] = await Promise.all([
    geographyGetZones().catch(() => null), geographyGetRoads().then((r) => r.lines).catch(() => []),
  ]);
  map.zones = zones; map.roads = roads;
  for (const z of patrolZones(zones)) zoneSel.append(new Option(`${z.id} · ${z.name}`, z.id));
  if (dlg.open) { map.layout(); map.redraw(); }
  dlg.dataset.ready = "1";
  return /** @type {Promise<Incident | null>} */ (closed);
}
