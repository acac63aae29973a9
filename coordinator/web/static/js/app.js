// @ts-check
// Shell: sign-in, role-aware navigation built from the screen registry, hash routing.
import { authEnrolAuthenticator, authLogin, authLoginSecondStep, authLogout } from "./api_client.js";
import { banner } from "./banner.js";
import { ApiError, session, setUnauthorizedHandler } from "./http.js";
import { html, append, render } from "./html.js";
import { LANGUAGES, label, locale, markDocument, onLocaleChange, setLocale, t } from "./i18n.js";
import { connectLive, disconnectLive } from "./live.js";
import { allScreens } from "./registry.js";
import "./screens/index.js";

/** @typedef {import("./registry.js").Screen} Screen */

/** @param {string} id @returns {HTMLElement} */
const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));
/** @type {Screen | null} */
let current = null;
// Each navigation's number: a screen still loading when the operator moves on must not
// report its late failure (its view was torn down) into the next screen.
let navigation = 0;
// The pending second step of a login (accounts that read personal data need a TOTP code).
let challenge = "";

// Static text of the page itself, from the catalogue.
function translatePage() {
  document.title = t("app.title");
  for (const el of document.querySelectorAll("[data-i18n]")) {
    el.textContent = t(/** @type {HTMLElement} */ (el).dataset.i18n || "");
  }
  for (const el of document.querySelectorAll("[data-i18n-title]")) {
    el.setAttribute("title", t(/** @type {HTMLElement} */ (el).dataset.i18nTitle || ""));
  }
  for (const el of document.querySelectorAll("[data-i18n-label]")) {
    el.setAttribute("aria-label", t(/** @type {HTMLElement} */ (el).dataset.i18nLabel || ""));
  }
}

// The language switch: each language under its own name; the choice is kept (i18n.js).
function languageSwitch() {
  const sel = /** @type {HTMLSelectElement} */ ($("lang"));
  const option = (/** @type {[string, { name: string }]} */ [id, lang]) =>
    html`<option value="${id}" lang="${id}" ${id === locale() ? "selected" : ""}>${lang.name}</option>`;
  render(sel, html`${Object.entries(LANGUAGES).map(option)}`);
  sel.addEventListener("change", () => setLocale(sel.value));
}

// Another language: the page's own text, the navigation and the open screen are drawn again.
onLocaleChange(() => {
  translatePage();
  const who = session.get();
  if (who) showWho(who);
  if (!$("login").hidden) $("login-error").textContent = "";
  if (session.get()) route();
});

/** @param {string[]} roles */
const roleNames = (roles) => roles.map((r) => label("roles.", r)).join(t("common.list_sep"));

/** Who is signed in: the user name as it is (data), the roles in the reader's language.
 * @param {import("./http.js").Session} s */
const showWho = (s) => render($("who"), html`<span data-l10n="data">${s.username}</span> · ${roleNames(s.roles)}`);

/** @param {string} [message] */
function showLogin(message) {
  if (current && current.unmount) current.unmount();
  current = null;
  disconnectLive();
  session.clear();
  $("login").hidden = false;
  $("login-form").hidden = false;
  $("second-form").hidden = true;
  challenge = "";
  $("view").replaceChildren();
  $("nav").replaceChildren();
  $("who").textContent = "";
  $("logout").hidden = true;
  // Keep an earlier reason (e.g. "session ended") when a later call has none to give.
  if (message) $("login-error").textContent = message;
}

function allowed() { return allScreens().filter((s) => session.can(s.perm)); }

/** @param {string} active */
function renderNav(active) {
  const link = (/** @type {Screen} */ s) =>
    html`<a href="#/${s.id}" data-screen="${s.id}" class="${s.id === active ? "active" : ""}">${t(s.navKey)}</a>`;
  render($("nav"), html`${allowed().map(link)}`);
}

/** @param {Screen} screen @param {string[]} roles */
function forbidden(screen, roles) {
  return html`<h1>${t(screen.navKey)}</h1>
    <p class="error" data-testid="forbidden">${t("shell.forbidden", { roles: roleNames(roles) })}</p>`;
}

async function route() {
  const s = session.get();
  if (!s) { showLogin(); return; }
  if (s.expires_at * 1000 < Date.now()) { showLogin(t("session.expired")); return; }
  $("login").hidden = true;
  $("logout").hidden = false;
  showWho(s);
  const want = (location.hash.replace(/^#\/?/, "") || "").split("?")[0];
  const mine = allowed();
  const screen = allScreens().find((x) => x.id === want);
  if (!want || !screen) {
    if (!mine.length) { render($("view"), html`<p class="error">${t("shell.no_screens")}</p>`); return; }
    location.hash = `#/${mine[0].id}`;
    return;
  }
  const thisNav = ++navigation;
  renderNav(screen.id);
  if (current && current.unmount) current.unmount();
  current = null;
  banner(null);
  const view = $("view");
  if (!session.can(screen.perm)) { render(view, forbidden(screen, s.roles)); return; }
  view.replaceChildren();
  current = screen;
  try {
    await screen.mount(view);
  } catch (e) {
    if (thisNav !== navigation) return; // the operator has moved on to another screen
    append(view, html`<p class="error">${t("shell.load_failed", { screen: t(screen.navKey), error: e.message })}</p>`);
  }
}

/** @param {import("./api_client.js").TokenOut} tok */
async function signedIn(tok) {
  session.set(tok);
  challenge = "";
  connectLive();
  location.hash = "";
  await route();
}

/** @param {SubmitEvent} ev */
async function login(ev) {
  ev.preventDefault();
  const f = new FormData(/** @type {HTMLFormElement} */ (ev.target));
  $("login-error").textContent = "";
  try {
    const tok = await authLogin({ username: String(f.get("username")), password: String(f.get("password")) });
    if (!tok.second_factor) { await signedIn(tok); return; }
    // Second step: a code from the authenticator (enrolled now on a first login).
    challenge = tok.challenge || "";
    $("enrol-box").hidden = tok.second_factor !== "totp_enrol";
    if (tok.second_factor === "totp_enrol") {
      const e = await authEnrolAuthenticator({ challenge });
      $("enrol-secret").textContent = e.secret;
      $("enrol-uri").textContent = e.otpauth_uri;
    }
    $("login-form").hidden = true;
    $("second-form").hidden = false;
    /** @type {HTMLInputElement} */ ($("second-form").querySelector("input[name=code]")).focus();
  } catch (e) {
    $("login-error").textContent = e instanceof ApiError ? e.message : String(e);
  }
}

markDocument();
/** @param {SubmitEvent} ev */
async function secondStep(ev) {
  ev.preventDefault();
  const form = /** @type {HTMLFormElement} */ (ev.target);
  const code = String(new FormData(form).get("code")).replace(/\s/g, "");
  $("second-error").textContent = "";
  try {
    await signedIn(await authLoginSecondStep({ challenge, code }));
    form.reset();
  } catch (e) {
    $("second-error").textContent = e instanceof ApiError ? e.message : String(e);
  }
}

translatePage();
languageSwitch();
setUnauthorizedHandler((msg) => showLogin(msg));
$("login-form").addEventListener("submit", login);
$("second-form").addEventListener("submit", secondStep);
$("logout").addEventListener("click", async () => {
  try { await authLogout(); } catch { /* already gone */ }
  showLogin(t("login.signed_out"));
});
addEventListener("hashchange", route);
if (session.get()) connectLive();
route();
