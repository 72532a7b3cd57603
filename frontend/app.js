// Entry point and router: pages are chosen by URL path and changed with history.pushState.
// PAGES is the one table of signed-in pages: its path, the sidebar's label, who may see it, and
// the module's mount(root, ctx). A path ending in "/" (but "/" itself) also takes an id after it (ctx.id).
import { api, setToken, token } from "./api.js";
import { API, ROUTES, SEL, STORAGE } from "./config.js";
import { h, initials } from "./dom.js";
import * as auth from "./pages/auth.js";
import * as communicationsPage from "./pages/communications.js";
import * as emailCapturePage from "./pages/emailcapture.js";
import * as contactPage from "./pages/contact.js";
import * as contactsPage from "./pages/contacts.js";
import * as organizationPage from "./pages/organization.js";
import * as organizationsPage from "./pages/organizations.js";
import * as gridPage from "./pages/grid.js";
import * as pipelinePage from "./pages/pipeline.js";
import * as reportsPage from "./pages/reports.js";
import * as featureRequestsPage from "./pages/feature_requests.js";
import * as settingsPage from "./pages/settings.js";
import { mentionsWidget } from "./widgets/mentions.js";
import { searchBox } from "./widgets/search.js";

const PAGES = [
  { path: ROUTES.grid, nav: "Grid", mount: gridPage.mount, name: "grid" },
  { path: ROUTES.contacts, nav: "Contacts", mount: contactsPage.mount, name: "contacts" },
  { path: ROUTES.contact, mount: contactPage.mount, name: "contacts" },  // a record marks its list in the sidebar
  { path: ROUTES.organizations, nav: "Organizations", mount: organizationsPage.mount, name: "organizations" },
  { path: ROUTES.organization, mount: organizationPage.mount, name: "organizations" },
  { path: ROUTES.pipeline, nav: "Pipeline", mount: pipelinePage.mount, name: "pipeline" },
  { path: ROUTES.opportunity, mount: pipelinePage.mountEditor, name: "pipeline" },
  { path: ROUTES.reports, nav: "Reports", mount: reportsPage.mount, name: "reports" },
  { path: ROUTES.communications, nav: "Communications", mount: communicationsPage.mount, name: "communications", admin: true },
  { path: ROUTES.emailCapture, nav: "Email Capture", mount: emailCapturePage.mount, name: "email-capture", admin: true },
  { path: ROUTES.featureRequests, nav: "Feature requests", mount: featureRequestsPage.mount, name: "feature-requests" },
  { path: ROUTES.settings, nav: "Settings", mount: settingsPage.mount, name: "settings" },
  { path: `${ROUTES.settings}/`, mount: settingsPage.mount, name: "settings" },  // /settings/<tab>: ctx.id is the tab
  { path: ROUTES.account, mount: (root, ctx) => auth.changePassword(root, ctx), name: "account" },
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
  const header = h("header.topbar", {},
    h("a.brand", { href: ROUTES.grid, dataset: { link: "" } }, "Venture CRM"),
    searchBox({ me, navigate, features: features || {} }),
    h("div.presence", { role: "group", "aria-label": "People in the grid" }),
    mentionsWidget({ navigate }),
    menu);
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

async function render() {
  current?.();
  current = null;
  const path = location.pathname;
  const ctx = { navigate, signedIn, signOut, get features() { return features; } };
  if (path === ROUTES.acceptInvite) {
    root.className = "signed-out";
    current = auth.acceptInvite(root, ctx, new URLSearchParams(location.hash.slice(1)).get("token"));
    return;
  }
  if (token() && !(me && features)) {
    try {
      [me, features] = await Promise.all([me || api("GET", API.me), api("GET", API.features)]);
    } catch { setToken(null); me = null; }
  }
  if (!token()) {
    me = null;
    root.className = "signed-out";
    const { setup_required } = await api("GET", API.bootstrap);
    if (setup_required) {
      if (path !== ROUTES.setup) history.replaceState(null, "", ROUTES.setup);
      current = auth.setup(root, ctx);
    } else {
      if (path !== ROUTES.login) {
        if (path !== ROUTES.setup) sessionStorage.setItem(STORAGE.afterSignIn, path + location.search);
        history.replaceState(null, "", ROUTES.login);
      }
      current = auth.login(root, ctx);
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
  current = page.mount(shell(page.name), { ...ctx, me, id });
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
