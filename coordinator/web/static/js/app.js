// Shell: sign-in, role-aware navigation, hash routing, the error banner.
import { api, ApiError, esc, session, setUnauthorizedHandler } from "./api.js";
import { connectLive, disconnectLive } from "./live.js";
import * as check from "./screens/check.js";
import * as fleet from "./screens/fleet.js";
import * as fraud from "./screens/fraud.js";
import * as incidents from "./screens/incidents.js";
import * as map from "./screens/map.js";
import * as population from "./screens/population.js";
import * as units from "./screens/units.js";

// Each screen names the permission it needs; the nav shows only what the role may open.
const SCREENS = [
  { id: "map", title: "City map", perm: "devices:read", mod: map },
  { id: "incidents", title: "Incidents", perm: "incidents:read", mod: incidents },
  { id: "fleet", title: "Fleet health", perm: "devices:read", mod: fleet },
  { id: "units", title: "Units & KPIs", perm: "units:read", mod: units },
  { id: "population", title: "Population", perm: "population:read", mod: population },
  { id: "fraud", title: "Fraud warnings", perm: "fraud:read", mod: fraud },
  { id: "check", title: "Check a company", perm: "company:check", mod: check },
];

const $ = (id) => document.getElementById(id);
let current = null;

export function banner(msg, kind = "error") {
  const b = $("banner");
  if (!msg) { b.hidden = true; return; }
  b.textContent = msg;
  b.className = kind === "info" ? "info" : "";
  b.hidden = false;
}
window.cwBanner = banner;

function showLogin(message) {
  if (current && current.mod.unmount) current.mod.unmount();
  current = null;
  disconnectLive();
  session.clear();
  $("login").hidden = false;
  $("view").innerHTML = "";
  $("nav").innerHTML = "";
  $("who").textContent = "";
  $("logout").hidden = true;
  // Keep an earlier reason (e.g. "session ended") when a later call has none to give.
  if (message) $("login-error").textContent = message;
}

function allowed() { return SCREENS.filter((s) => session.can(s.perm)); }

function renderNav(active) {
  $("nav").innerHTML = allowed()
    .map((s) => `<a href="#/${s.id}" data-screen="${s.id}" class="${s.id === active ? "active" : ""}">${esc(s.title)}</a>`)
    .join("");
}

async function route() {
  const s = session.get();
  if (!s) { showLogin(); return; }
  if (s.expires_at * 1000 < Date.now()) { showLogin("Your session has expired. Please sign in again."); return; }
  $("login").hidden = true;
  $("logout").hidden = false;
  $("who").textContent = `${s.username} · ${s.roles.join(", ")}`;
  const want = (location.hash.replace(/^#\/?/, "") || "").split("?")[0];
  const mine = allowed();
  const screen = SCREENS.find((x) => x.id === want);
  if (!want || !screen) {
    if (!mine.length) { $("view").innerHTML = `<p class="error">Your role has no screens here.</p>`; return; }
    location.hash = `#/${mine[0].id}`;
    return;
  }
  renderNav(screen.id);
  if (current && current.mod.unmount) current.mod.unmount();
  current = null;
  banner(null);
  const view = $("view");
  if (!session.can(screen.perm)) {
    view.innerHTML = `<h1>${esc(screen.title)}</h1><p class="error" data-testid="forbidden">Not permitted: your role (${esc(s.roles.join(", "))}) may not open this screen.</p>`;
    return;
  }
  view.innerHTML = "";
  current = screen;
  try {
    await screen.mod.mount(view);
  } catch (e) {
    view.insertAdjacentHTML("beforeend", `<p class="error">Could not load ${esc(screen.title)}: ${esc(e.message)}</p>`);
  }
}

async function login(ev) {
  ev.preventDefault();
  const f = new FormData(ev.target);
  $("login-error").textContent = "";
  try {
    const tok = await api("/api/auth/login", { method: "POST", body: { username: f.get("username"), password: f.get("password") } });
    session.set(tok);
    connectLive();
    location.hash = "";
    await route();
  } catch (e) {
    $("login-error").textContent = e instanceof ApiError ? e.message : String(e);
  }
}

setUnauthorizedHandler((msg) => showLogin(msg));
$("login-form").addEventListener("submit", login);
$("logout").addEventListener("click", async () => {
  try { await api("/api/auth/logout", { method: "POST" }); } catch { /* already gone */ }
  showLogin("Signed out.");
});
window.addEventListener("hashchange", route);
if (session.get()) connectLive();
route();
