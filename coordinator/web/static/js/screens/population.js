// @ts-check
// Population officers: search (audited, with a stated purpose), service requests, review queue.
import { populationListRequests, populationReviewQueue, populationSearchPersons } from "../api_client.js";
import { expectArray } from "../http.js";
import { html, render } from "../html.js";
import { fmtDate, fmtNumber, fmtTime, has, label, t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").DuplicateCandidate} DuplicateCandidate */
/** @typedef {import("../api_client.js").PersonListItem} PersonListItem */
/** @typedef {import("../api_client.js").ServiceRequestItem} ServiceRequestItem */

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;
/** @param {number} cols @param {string} key */
const empty = (cols, key) => html`<tr><td colspan="${cols}" class="muted">${t(key)}</td></tr>`;

// Where a person comes from: a province (from the ID number) or a country code.
/** @param {string | null | undefined} o */
const origin = (o) => {
  const key = `population.origin.${String(o || "").replace(/ /g, "_").toLowerCase()}`;
  return has(key) ? t(key) : o || "";
};

/** @param {PersonListItem} p one person (ID number masked) */
const personRow = (p) => html`<tr><td>${p.name}</td><td>${p.name_latin}</td><td>${p.id_masked}</td>
  <td>${fmtDate(p.dob)}</td><td>${origin(p.origin)}</td><td>${p.zone || ""}</td></tr>`;

/** @param {ServiceRequestItem} r one service request */
const requestRow = (r) => html`<tr><td>${r.id}</td><td>${label("population.category.", r.category)}</td>
  <td>${label("population.request_status.", r.status)}
    ${r.overdue ? html` <span class="pill pri-1">${t("population.overdue")}</span>` : ""}</td>
  <td>${fmtTime(r.due_at)}</td></tr>`;

/** @param {PersonListItem | null} p a person of a duplicate pair */
const who = (p) =>
  (p ? html`${p.name} <span class="muted">${p.id_masked}</span>` : html`<span class="muted">${t("population.gone")}</span>`);

// Why two records may be one person: the duplicate check's reasons, in the reader's language
// ("name 0.93" carries the name likeness; an unknown reason is shown as the server gave it).
/** @param {string} r */
function reason(r) {
  const name = /^name ([\d.]+)$/.exec(r);
  const two = { minimumFractionDigits: 2, maximumFractionDigits: 2 };
  if (name) return t("population.reason.name", { score: fmtNumber(Number(name[1]), two) });
  const key = `population.reason.${r.replace(/[ -]/g, "_").toLowerCase()}`;
  return has(key) ? t(key) : r;
}

/** @param {DuplicateCandidate} d one duplicate candidate: the pair, the score and why */
const duplicateRow = (d) => html`<tr data-candidate="${d.id}"><td>${d.id}</td><td>${who(d.person)}</td><td>${who(d.other)}</td>
  <td data-testid="dup-reasons">${d.reasons.map(reason).join(t("common.list_sep"))}</td>
  <td>${fmtNumber(d.score, { maximumFractionDigits: 2 })}</td>
  <td>${label("population.dup_status.", d.status)}</td></tr>`;

/** @param {HTMLElement} view */
async function search(view) {
  const f = new FormData(/** @type {HTMLFormElement} */ (view.querySelector("#pop-search")));
  const purpose = String(f.get("purpose") || "").trim();
  const out = /** @type {HTMLElement} */ (view.querySelector("#pop-results"));
  if (purpose.length < 3) { render(out, html`<p class="error">${t("population.need_purpose")}</p>`); return; }
  /** @type {{ name?: string, address?: string }} */
  const q = {};
  for (const k of /** @type {const} */ (["name", "address"])) if (f.get(k)) q[k] = String(f.get(k));
  try {
    const rows = expectArray(await populationSearchPersons(purpose, q), "search results");
    const cols = ["name", "latin", "id_masked", "born", "origin", "zone"].map((c) => `population.col.${c}`);
    render(out, html`<table data-testid="pop-results">${head(cols)}<tbody>
      ${rows.length ? rows.map(personRow) : empty(6, "population.no_match")}</tbody></table>`);
  } catch (e) { render(out, html`<p class="error">${e.message}</p>`); }
}

/** @param {HTMLElement} box */
async function requests(box) {
  const list = await populationListRequests(t("population.purpose_requests"), { limit: 20 });
  const cols = ["id", "category", "status", "due"].map((c) => `population.col.${c}`);
  render(box, html`<table>${head(cols)}<tbody>${list.length ? list.map(requestRow) : empty(4, "common.none")}</tbody></table>`);
}

/** @param {HTMLElement} box */
async function duplicates(box) {
  const list = await populationReviewQueue(t("population.purpose_duplicates"), { limit: 20 });
  const cols = ["id", "person", "other", "reasons", "score", "status"].map((c) => `population.col.${c}`);
  const rows = list.length ? list.map(duplicateRow) : empty(6, "common.queue_empty");
  render(box, html`<table data-testid="pop-dups">${head(cols)}<tbody>${rows}</tbody></table>`);
}

/** @param {HTMLElement} box @param {(box: HTMLElement) => Promise<void>} fill */
function section(box, fill) {
  fill(box).catch((e) => render(box, html`<p class="error">${e.message}</p>`));
}

/** @param {HTMLElement} view */
function mount(view) {
  render(view, html`<h1>${t("population.title")}</h1>
    <form id="pop-search"><label>${t("population.name")}<input name="name"></label>
      <label>${t("population.address")}<input name="address"></label>
      <label>${t("population.purpose")}<input name="purpose" placeholder="${t("population.purpose_example")}"></label>
      <button class="primary">${t("population.search")}</button></form>
    <div id="pop-results"></div>
    <h2>${t("population.requests")}</h2><div id="pop-requests" class="muted">${t("common.loading")}</div>
    <h2>${t("population.duplicates")}</h2><div id="pop-dups" class="muted">${t("common.loading")}</div>`);
  view.querySelector("#pop-search")?.addEventListener("submit", (e) => { e.preventDefault(); search(view); });
  section(/** @type {HTMLElement} */ (view.querySelector("#pop-requests")), requests);
  section(/** @type {HTMLElement} */ (view.querySelector("#pop-dups")), duplicates);
}

registerScreen({ id: "population", navKey: "nav.population", perm: "population:read", mount });
