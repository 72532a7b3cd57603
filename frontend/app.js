// Entry point and router: pages are chosen by URL path and changed with history.pushState.
// PAGES is the one table of signed-in pages: its path, the sidebar's label, who may see it, and
// the module's mount(root, ctx). A path ending in "/" (but "/" itself) also takes an id after it (ctx.id).
import { api, forgetPrefetched, prefetch, setToken, token } from "./api.js";
import { API, ROUTES, SEL, STORAGE, TIMING } from "./config.js";
import { h, initials } from "./dom.js";
import { later, warmLater } from "./lazy.js";
import { firstRowsUrl } from "./widgets/rowpages.js";

// What app.js imports statically must arrive before it runs and asks /me and /features: only the
// above. The signed-out pages and the header's search and mentions load on demand (lazy.js).
const auth = later(() => import("./pages/auth.js"));
const searchWidget = later(() => import("./widgets/search.js"));
const mentionsWidget = later(() => import("./widgets/mentions.js"));

// Each page's module is imported when it is first opened (index.html preloads the grid's, the page
// most visits open), and the others are fetched once the first page is up and the browser is idle:
// over a slow link the first page waits only for its own modules. The import() specifiers stay
// literal so the server can version them (backend/crm/http/assets.py).
const pages = {
  grid: () => import("./pages/grid.js"),
  contacts: () => import("./pages/contacts.js"),
  contact: () => import("./pages/contact.js"),
  organizations: () => import("./pages/organizations.js"),
  organization: () => import("./pages/organization.js"),
  pipeline: () => import("./pages/pipeline.js"),
  reports: () => import("./pages/reports.js"),
  communications: () => import("./pages/communications.js"),
  emailCapture: () => import("./pages/emailcapture.js"),
  featureRequests: () => import("./pages/feature_requests.js"),
  settings: () => import("./pages/settings.js"),
  auth: () => auth.get(),
};
const mount = (load, name = "mount") => ({ load, pick: (module) => module[name] });

// `prefetch()`: GET URLs the page asks first, asked at boot together with /me and /features (api.js's
// prefetch: the page's own first ask of the URL takes the answer, once). The grid's: its state, and
// the first rows of the view the URL names or, failing that, of the first view the last visit had.
function gridFirstRows() {
  const viewId = new URLSearchParams(location.search).get("view") || localStorage.getItem(STORAGE.firstView);
  return viewId ? [firstRowsUrl(API.rows, viewId, TIMING.firstPage)] : [];
}

const PAGES = [
  { path: ROUTES.grid, nav: "Grid", ...mount(pages.grid), name: "grid", prefetch: () => [`${API.state}?rows=0`, ...gridFirstRows()] },
  { path: ROUTES.contacts, nav: "Contacts", ...mount(pages.contacts), name: "contacts" },
  { path: ROUTES.contact, ...mount(pages.contact), name: "contacts" },  // a record marks its list in the sidebar
  { path: ROUTES.organizations, nav: "Organizations", ...mount(pages.organizations), name: "organizations" },
  { path: ROUTES.organization, ...mount(pages.organization), name: "organizations" },
  { path: ROUTES.pipeline, nav: "Pipeline", ...mount(pages.pipeline), name: "pipeline" },
  { path: ROUTES.opportunity, ...mount(pages.pipeline, "mountEditor"), name: "pipeline" },
  { path: ROUTES.reports, nav: "Reports", ...mount(pages.reports), name: "reports" },
  { path: ROUTES.communications, nav: "Communications", ...mount(pages.communications), name: "communications", admin: true },
  { path: ROUTES.emailCapture, nav: "Email Capture", ...mount(pages.emailCapture), name: "email-capture", admin: true },
  { path: ROUTES.featureRequests, nav: "Feature requests", ...mount(pages.featureRequests), name: "feature-requests" },
  { path: ROUTES.settings, nav: "Settings", ...mount(pages.settings), name: "settings" },
  { path: `${ROUTES.settings}/`, ...mount(pages.settings), name: "settings" },  // /settings/<tab>: ctx.id is the tab
  { path: ROUTES.account, ...mount(pages.auth, "changePassword"), name: "account" },
];

const root = document.querySelector(SEL.app);
let current = null;   // the mounted page's unmount function
let me = null;        // the signed-in user, fetched once per token
let features = null;  // what the server has switched on (GET /api/features), fetched with `me`

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, "", path);
  else history.pushState(null, "", path);
  render();
}

function signedIn(data) {
  setToken(data.token);
  me = data.user;
  const back = sessionStorage.getItem(STORAGE.afterSignIn) || ROUTES.grid;
  sessionStorage.removeItem(STORAGE.afterSignIn);
  navigate(back, { replace: true });
}

async function signOut() {
  await api("POST", API.logout).catch(() => {});
  setToken(null);
  me = null;
  sessionStorage.removeItem(STORAGE.afterSignIn);
  navigate(ROUTES.login, { replace: true });
}

function sidebar(page) {
  const shown = PAGES.filter((p) => p.nav && (!p.admin || me.role === "admin"));
  const toggle = h("button.sidebar-toggle", { type: "button", "aria-label": "Sidebar",
    "aria-expanded": "true", onclick: () => setSidebar(document.body.dataset.sidebar === "rail" ? "open" : "rail") }, "☰");
  return h("aside.sidebar", { "aria-label": "Sections" }, toggle, h("nav", {},
    ...shown.map((p) => h("a", { href: p.path, dataset: { link: "", initial: p.nav[0] }, title: p.nav,
      "aria-current": page === p.name ? "page" : null }, h("span.label", {}, p.nav)))));
}

// The sidebar is a narrow rail below 1400 px unless the reader opened it (remembered per browser).
function setSidebar(mode) {
  if (mode) localStorage.setItem(STORAGE.sidebar, mode);
  const chosen = localStorage.getItem(STORAGE.sidebar) || (innerWidth >= 1400 ? "open" : "rail");
  document.body.dataset.sidebar = chosen;
  document.querySelector(".sidebar-toggle")?.setAttribute("aria-expanded", String(chosen === "open"));
}

function shell(page) {
  const menu = h("details.user-menu", {},
    h("summary", {}, h("span.avatar.me", { "aria-hidden": "true" }, initials(me)), h("span.me-name", {}, me.display_name || me.username),
      h("span.sr-only", {}, " (account menu)")),
    h("div.menu", { role: "menu" },
      h("a", { href: ROUTES.account, role: "menuitem", dataset: { link: "" } }, "Change password"),
      h("button", { type: "button", role: "menuitem", onclick: signOut }, "Sign out")));
  // The search box and the mentions button take their places once their modules are in.
  const [searchSlot, mentionsSlot] = [h("span.search-slot"), h("span.mentions-slot")];
  const header = h("header.topbar", {},
    h("a.brand", { href: ROUTES.grid, dataset: { link: "" } }, "Venture CRM"),
    searchSlot,
    h("div.presence", { role: "group", "aria-label": "People in the grid" }),
    mentionsSlot,
    menu);
  const fill = (slot, widget, make) => widget.get().then((m) => { if (slot.isConnected) slot.replaceWith(make(m)); }, () => {});
  const options = { me, navigate, features: features || {} };
  fill(searchSlot, searchWidget, (m) => m.searchBox(options));
  fill(mentionsSlot, mentionsWidget, (m) => m.mentionsWidget({ navigate }));
  const body = h("div.page", {});
  root.replaceChildren(header, h("div.frame", {}, sidebar(page), body));
  root.className = "signed-in";
  setSidebar();
  return body;
}

function pageFor(path) {
  const exact = PAGES.find((p) => p.path === path);
  if (exact) return { page: exact };
  // "/" (the grid) is no prefix: without this, every deep link such as /contacts/<id> opened the grid.
  const prefixed = PAGES.find((p) => p.path !== "/" && p.path.endsWith("/") && path.startsWith(p.path) && path.length > p.path.length);
  return prefixed ? { page: prefixed, id: decodeURIComponent(path.slice(prefixed.path.length)) } : {};
}

let rendering = 0;  // each render's turn: one still waiting for a module when another starts gives way

async function render() {
  const turn = ++rendering;
  forgetPrefetched();  // what the last page did not take is never used: a later ask goes to the server
  current?.();
  current = null;
  const path = location.pathname;
  const ctx = { navigate, signedIn, signOut, get features() { return features; } };
  if (path === ROUTES.acceptInvite) {
    root.className = "signed-out";
    const { acceptInvite } = await auth.get();
    if (turn !== rendering) return;
    current = acceptInvite(root, ctx, new URLSearchParams(location.hash.slice(1)).get("token"));
    return;
  }
  if (token() && !(me && features)) {
    const { page } = pageFor(path);
    page?.load().catch(() => {});  // its modules arrive while /me and /features are asked
    for (const url of page?.prefetch?.() || []) prefetch(url);  // and its first API call with them
    try {
      [me, features] = await Promise.all([me || api("GET", API.me), api("GET", API.features)]);
    } catch { setToken(null); me = null; }
  }
  if (turn !== rendering) return;
  if (!token()) {
    me = null;
    forgetPrefetched();
    root.className = "signed-out";
    const [{ setup_required }, pagesOut] = await Promise.all([api("GET", API.bootstrap), auth.get()]);
    if (turn !== rendering) return;
    if (setup_required) {
      if (path !== ROUTES.setup) history.replaceState(null, "", ROUTES.setup);
      current = pagesOut.setup(root, ctx);
    } else {
      if (path !== ROUTES.login) {
        if (path !== ROUTES.setup) sessionStorage.setItem(STORAGE.afterSignIn, path + location.search);
        history.replaceState(null, "", ROUTES.login);
      }
      current = pagesOut.login(root, ctx);
    }
    return;
  }
  if (path === ROUTES.login || path === ROUTES.setup) {
    history.replaceState(null, "", ROUTES.grid);
    return render();
  }
  let { page, id } = pageFor(path);
  if (page?.admin && me.role !== "admin") page = null;  // the server refuses anyway; show the grid instead
  if (!page) {
    history.replaceState(null, "", ROUTES.grid);
    page = PAGES[0];
  }
  document.title = page.nav ? `${page.nav} · Venture CRM` : "Venture CRM";
  const body = shell(page.name);  // the header and sidebar show while the page's module arrives
  let module;
  try {
    module = await page.load();
  } catch (error) {
    if (turn === rendering) body.replaceChildren(h("p.error", { role: "alert" }, `Could not load this page (${error.message}). Reload to try again.`));
    return;
  }
  if (turn !== rendering) return;
  current = page.pick(module)(body, { ...ctx, me, id });
  prefetchPages();
}

// The other pages' modules, fetched once the first page is up and the browser is idle (after a
// pause, so that over a slow link they do not compete with the first page's own requests).
let prefetched = false;
function prefetchPages() {
  if (prefetched) return;
  prefetched = true;
  const idle = window.requestIdleCallback || ((fn) => setTimeout(fn, 0));
  setTimeout(() => idle(prefetchWhenOnline), TIMING.prefetchPagesMs);
}

// Offline, the fetches would only fail (and a failed module fetch may stay failed until a reload):
// wait for the link instead.
function prefetchWhenOnline() {
  if (!navigator.onLine) { window.addEventListener("online", prefetchWhenOnline, { once: true }); return; }
  Object.values(pages).forEach((load) => load().catch(() => {}));
  warmLater();
}

// Links marked data-link change the page without a reload.
document.addEventListener("click", (event) => {
  const link = event.target.closest("a[data-link]");
  if (!link || event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  link.closest("details")?.removeAttribute("open");
  navigate(link.getAttribute("href"));
});
window.addEventListener("popstate", render);
// Any 401 after sign-in: back to the sign-in screen, then here again. Unsaved
// grid edits wait in sessionStorage and are sent once signed in.
window.addEventListener("crm:unauthorized", () => {
  me = null;
  if (location.pathname !== ROUTES.login) sessionStorage.setItem(STORAGE.afterSignIn, location.pathname + location.search);
  render();
});

render();
