// @ts-check
// Staff administration (administrators): accounts with their roles, zones and state;
// create, disable / enable, new password, expiry, end sessions, second-factor reset; and the
// requests that wait for a second administrator, approved or rejected here — never by the
// administrator who filed them (the server refuses that too).
import {
  approvalsApprove, approvalsListRequests, approvalsReject, staffCreateUser, staffDisableUser,
  staffEnableUser, staffEndSessions, staffListUsers, staffResetSecondFactor, staffSetExpiry,
  staffSetPassword,
} from "../api_client.js";
import { fmtTime } from "../http.js";
import { html, render } from "../html.js";
import { t } from "../i18n.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../api_client.js").UserRow} UserRow */
/** @typedef {import("../api_client.js").ApprovalOut} ApprovalOut */

const ROLES = ["admin", "operator", "call_taker", "supervisor", "dispatcher", "technician", "population_officer",
  "fraud_investigator", "hall_clerk", "data_access_approver", "auditor", "merchant", "patrol_unit"];
/** The actions of a row: each asks for one value (or none) and calls the API. */
const ACTIONS = /** @type {const} */ ({
  disable: { input: "reason", call: (/** @type {number} */ id, /** @type {string} */ v) => staffDisableUser(id, { reason: v }) },
  enable: { input: "", call: (/** @type {number} */ id) => staffEnableUser(id, { reason: "enabled in the staff screen" }) },
  password: { input: "password", call: (/** @type {number} */ id, /** @type {string} */ v) => staffSetPassword(id, { password: v }) },
  expiry: {
    input: "date",
    call: (/** @type {number} */ id, /** @type {string} */ v) => staffSetExpiry(id, { expires_at: v ? endOfDay(v) : null }),
  },
  sessions: { input: "reason", call: (/** @type {number} */ id, /** @type {string} */ v) => staffEndSessions(id, { reason: v }) },
  factor: { input: "reason", call: (/** @type {number} */ id, /** @type {string} */ v) => staffResetSecondFactor(id, { reason: v }) },
});

/** The end of a YYYY-MM-DD day, local time, as Unix seconds. @param {string} day */
function endOfDay(day) { return new Date(`${day}T00:00:00`).getTime() / 1000 + 86400; }

/** @param {string[]} keys */
const head = (keys) => html`<thead><tr>${keys.map((k) => html`<th>${t(k)}</th>`)}</tr></thead>`;

/** @param {string} a @param {number} id */
const actButton = (a, id) => html`<button type="button" data-act="${a}" data-id="${id}">${t(`staff.act.${a}`)}</button> `;

/** @param {UserRow} u */
function userRow(u) {
  const acts = Object.keys(ACTIONS).filter((a) => (a === "enable") === (u.state === "disabled"));
  return html`<tr data-user="${u.username}">
    <td data-l10n="data">${u.username}</td><td data-l10n="data">${u.display_name || ""}</td>
    <td>${u.role_list.map((r) => t(`role.${r}`)).join(", ")}</td>
    <td>${u.zone_list.join(", ")}</td>
    <td data-testid="user-state"><span class="pill">${t(`staff.state.${u.state}`)}</span></td>
    <td>${t(`staff.factor.${u.second_factor}`)}</td>
    <td>${u.expires_at ? fmtTime(u.expires_at) : ""}</td><td>${u.live_sessions}</td>
    <td>${u.state === "pending_approval" ? "" : acts.map((a) => actButton(a, u.id))}</td>
  </tr>`;
}

/** @param {string} r */
const roleBox = (r) => html`<label><input type="checkbox" name="roles" value="${r}"> ${t(`role.${r}`)}</label> `;

/** @param {ApprovalOut} a */
function requestRow(a) {
  const s = a.scope;
  const roles = (s.roles || s.add_roles || []).map((/** @type {string} */ r) => t(`role.${r}`));
  const what = [...roles, ...(s.zones || s.add_zones || [])].join(", ");
  return html`<tr data-request="${a.id}"><td>${a.id}</td><td>${a.title}</td>
    <td data-l10n="data">${s.username || a.subject_id}</td><td>${what}</td><td data-l10n="data">${a.requested_by}</td>
    <td>${a.reason}</td><td>${fmtTime(a.requested_at)}</td>
    <td>${a.can_decide
      ? html`<button type="button" class="primary" data-decide="approve" data-id="${a.id}">${t("staff.approve")}</button>
        <button type="button" data-decide="reject" data-id="${a.id}">${t("staff.reject")}</button>`
      : html`<span class="muted">${t("staff.waiting_other")}</span>`}</td></tr>`;
}

/** @param {HTMLElement} view */
async function refresh(view) {
  const [users, pending] = await Promise.all([
    staffListUsers(), approvalsListRequests({ state: "pending" }),
  ]);
  const mine = pending.filter((a) => a.kind.startsWith("staff:"));
  const ucols = ["user", "name", "roles", "zones", "state", "factor", "expires", "sessions", "actions"];
  const rcols = ["id", "what", "account", "access", "by", "reason", "when", "decision"];
  render(/** @type {HTMLElement} */ (view.querySelector("#staff-users")), html`<table data-testid="staff-users">
    ${head(ucols.map((c) => `staff.col.${c}`))}<tbody>${users.map(userRow)}</tbody></table>`);
  render(/** @type {HTMLElement} */ (view.querySelector("#staff-pending")), mine.length
    ? html`<table data-testid="staff-pending">${head(rcols.map((c) => `staff.col.${c}`))}<tbody>${mine.map(requestRow)}</tbody></table>`
    : html`<p class="muted" data-testid="staff-pending-none">${t("staff.none_pending")}</p>`);
}

/** @param {HTMLElement} view @param {string} msg @param {boolean} [bad] */
function say(view, msg, bad = false) {
  render(/** @type {HTMLElement} */ (view.querySelector("#staff-msg")),
    html`<p class="${bad ? "error" : "ok"}" data-testid="staff-msg">${msg}</p>`);
}

/** @param {HTMLElement} view @param {HTMLFormElement} form */
async function create(view, form) {
  const f = new FormData(form);
  const zones = String(f.get("zones") || "").split(/[\s,]+/).filter(Boolean);
  const expires = String(f.get("expires") || "");
  const body = {
    username: String(f.get("username")), password: String(f.get("password")),
    display_name: String(f.get("display_name") || "") || null,
    roles: /** @type {import("../api_client.js").Role[]} */ (f.getAll("roles").map(String)), zones,
    expires_at: expires ? endOfDay(expires) : null, reason: String(f.get("reason") || "") || null,
  };
  try {
    const out = await staffCreateUser(body);
    say(view, t(out.state === "active" ? "staff.created" : "staff.created_pending", { user: body.username }));
    form.reset();
    await refresh(view);
  } catch (e) { say(view, e.message, true); }
}

/** @param {HTMLElement} view @param {HTMLElement} btn */
async function act(view, btn) {
  const id = Number(btn.dataset.id);
  const name = /** @type {keyof typeof ACTIONS} */ (btn.dataset.act);
  const spec = ACTIONS[name];
  const box = /** @type {HTMLElement} */ (view.querySelector("#staff-act"));
  if (!spec.input) { await run(view, () => spec.call(id, "")); return; }
  const type = spec.input === "password" ? "password" : spec.input === "date" ? "date" : "text";
  render(box, html`<form id="staff-act-form" class="card" data-testid="staff-act-form">
    <label>${t(`staff.input.${spec.input}`)} <input name="value" type="${type}" ${type === "date" ? "" : "required"}></label>
    <button class="primary">${t(`staff.act.${name}`)}</button></form>`);
  const form = /** @type {HTMLFormElement} */ (box.querySelector("form"));
  /** @type {HTMLInputElement} */ (form.querySelector("input")).focus();
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    const v = String(new FormData(form).get("value") || "");
    run(view, () => spec.call(id, v)).then(() => render(box, html``));
  });
}

/** @param {HTMLElement} view @param {() => Promise<unknown>} call */
async function run(view, call) {
  try { await call(); say(view, t("staff.done")); await refresh(view); } catch (e) { say(view, e.message, true); }
}

/** @param {HTMLElement} view @param {HTMLElement} btn */
async function decide(view, btn) {
  const id = Number(btn.dataset.id);
  const call = btn.dataset.decide === "approve" ? approvalsApprove : approvalsReject;
  await run(view, () => call(id, { note: null }));
}

/** @param {HTMLElement} view */
async function mount(view) {
  render(view, html`<h1>${t("staff.title")}</h1><div id="staff-msg"></div>
    <h2>${t("staff.pending")}</h2><div id="staff-pending"></div>
    <h2>${t("staff.users")}</h2><div id="staff-act"></div><div id="staff-users"></div>
    <h2>${t("staff.new")}</h2>
    <form id="staff-new" class="card" data-testid="staff-new">
      <label>${t("staff.col.user")} <input name="username" required pattern="[A-Za-z0-9][A-Za-z0-9._-]{0,63}"></label>
      <label>${t("staff.col.name")} <input name="display_name"></label>
      <label>${t("login.password")} <input name="password" type="password" minlength="10" required></label>
      <fieldset><legend>${t("staff.col.roles")}</legend>${ROLES.map(roleBox)}</fieldset>
      <label>${t("staff.col.zones")} <input name="zones" placeholder="Z001, Z002"></label>
      <label>${t("staff.col.expires")} <input name="expires" type="date"></label>
      <label>${t("staff.col.reason")} <input name="reason" size="50"></label>
      <p class="muted">${t("staff.two_admins")}</p>
      <button class="primary">${t("staff.create")}</button>
    </form>`);
  view.querySelector("#staff-new")?.addEventListener("submit", (e) => {
    e.preventDefault();
    create(view, /** @type {HTMLFormElement} */ (e.target));
  });
  view.addEventListener("click", (e) => {
    const btn = /** @type {HTMLElement} */ (e.target);
    if (btn.dataset.act) act(view, btn);
    if (btn.dataset.decide) decide(view, btn);
  });
  await refresh(view);
}

registerScreen({ id: "staff", navKey: "nav.staff", perm: "users:admin", mount });
