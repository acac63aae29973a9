// @ts-check
// The population officer's workspace: the counter (find, register, move, permits), houses
// and landlords with their visitors, service requests, the duplicate review with the second
// officer's decisions, break-the-glass access, and the bureau's figures. Every read states
// its purpose and is audited by the server; every form shows the server's refusal beside
// the field it names.
import { populationStats } from "../api_client.js";
import { html, render } from "../html.js";
import { fmtNumber, label, t } from "../i18n.js";
import { askFor, mountAccess } from "../population/access.js";
import { head, mountCounter, openPerson } from "../population/counter.js";
import { mountHouses } from "../population/houses.js";
import { mountImport } from "../population/import.js";
import { mountRequests } from "../population/requests.js";
import { mountReview } from "../population/review.js";
import { registerScreen } from "../registry.js";

/** @typedef {import("../population/counter.js").Workspace} Workspace */

const TABS = ["counter", "houses", "requests", "review", "access", "import", "figures"];

/** A count, or the mark of a hidden small cell. @param {number | string} n */
const count = (n) => (typeof n === "number" ? fmtNumber(n) : n === "suppressed" ? t("population.suppressed") : n);

/** The bureau's figures: persons by hukou status, city-wide and per monitoring centre. @param {Workspace} ws @param {HTMLElement} box */
async function mountFigures(ws, box) {
  const s = await populationStats({ by: ["hukou", "centre_hukou"] });
  const hukou = Object.entries(s.hukou || {});
  const centres = Object.entries(s.centre_hukou || {});
  render(box, html`<table data-testid="pop-hukou">${head(["hukou", "persons"])}<tbody>
      ${hukou.map(([k, n]) => html`<tr data-hukou="${k}"><td>${label("population.hukou.", k)}</td><td>${count(n)}</td></tr>`)}
      </tbody></table>
    <table data-testid="pop-centre-hukou">${head(["centre", "hukou", "persons"])}<tbody>
      ${centres.map(([k, n]) => html`<tr><td data-l10n="data">${k.split("|")[0]}</td>
        <td>${label("population.hukou.", k.split("|")[1])}</td><td>${count(n)}</td></tr>`)}</tbody></table>
    <p class="muted">${t("population.figures_note")}</p>`);
}

const MOUNT = /** @type {Object<string, (ws: Workspace, box: HTMLElement) => unknown>} */ ({
  counter: mountCounter, houses: mountHouses, requests: mountRequests, review: mountReview, access: mountAccess,
  import: mountImport, figures: mountFigures,
});

/** @param {HTMLElement} view */
function mount(view) {
  render(view, html`<h1>${t("population.title")}</h1>
    <div class="tabs" role="tablist">${TABS.map((k) => html`<button type="button" role="tab" data-tab="${k}"
      aria-selected="${k === "counter"}">${t(`population.tab.${k}`)}</button>`)}</div>
    ${TABS.map((k) => html`<section id="pop-tab-${k}" data-panel="${k}" ${k === "counter" ? "" : "hidden"}></section>`)}`);
  let current = /** @type {number | null} */ (null);
  const panel = (/** @type {string} */ k) => /** @type {HTMLElement} */ (view.querySelector(`[data-panel="${k}"]`));
  /** @param {string} k */
  const load = (k) => {
    // a fresh element each time: the listeners of the last mount go with the old one
    const box = document.createElement("div");
    panel(k).replaceChildren(box);
    Promise.resolve(MOUNT[k](ws, box)).catch((e) => render(box, html`<p class="error">${e.message}</p>`));
  };
  /** @type {Workspace} */
  const ws = {
    view,
    current: () => current,
    open: async (id) => { current = id; show("counter"); await openPerson(ws, id); },
    show: (k) => show(k),
    askAccess: (id) => { show("access"); askFor(panel("access"), id); },
  };
  /** @param {string} k */
  function show(k) {
    for (const b of view.querySelectorAll("[data-tab]")) b.setAttribute("aria-selected", String(b.getAttribute("data-tab") === k));
    for (const p of TABS) panel(p).hidden = p !== k;
    // fresh lists; the counter keeps its open person, the import its running upload and report
    if (!["counter", "access", "import"].includes(k)) load(k);
  }
  view.querySelector(".tabs")?.addEventListener("click", (e) => {
    const k = /** @type {HTMLElement} */ (e.target).dataset.tab;
    if (k) show(k);
  });
  load("counter");
  load("review");  // the queue is the first thing an officer checks
  load("access");
  load("import");
}

registerScreen({ id: "population", navKey: "nav.population", perm: "population:read", mount });
