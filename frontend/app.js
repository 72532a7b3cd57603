// Entry point and router: pages are chosen by URL path and changed with history.pushState.
import { api, setToken, token } from "./api.js";
import { API, ROUTES, SEL, STORAGE } from "./config.js";
import { h, initials } from "./dom.js";
import * as auth from "./pages/auth.js";
import * as contactPage from "./pages/contact.js";
import * as gridPage from "./pages/grid.js";
import { mentionsWidget } from "./widgets/mentions.js";

const root = document.querySelector(SEL.app);
let current = null;   // the mounted page's unmount function
let me = null;        // the signed-in user, fetched once per token

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

function shell(page) {
  const menu = h("details.user-menu", {},
    h("summary", { "aria-label": "Account menu" }, h("span.avatar.me", {}, initials(me)), h("span", {}, me.display_name || me.username)),
    h("div.menu", { role: "menu" },
      h("a", { href: ROUTES.account, role: "menuitem", dataset: { link: "" } }, "Change password"),
      h("button", { type: "button", role: "menuitem", onclick: signOut }, "Sign out")));
  const header = h("header.topbar", {},
    h("a.brand", { href: ROUTES.grid, dataset: { link: "" } }, "Venture CRM"),
    h("nav", { "aria-label": "Sections" }, h("a", { href: ROUTES.grid, dataset: { link: "" }, "aria-current": page === "grid" ? "page" : null }, "Fundraising")),
    h("div.presence", { "aria-label": "People in the grid" }),
    mentionsWidget({ navigate }),
    menu);
  const body = h("div.page", {});
  root.replaceChildren(header, body);
  root.className = "signed-in";
  return body;
}

async function render() {
  current?.();
  current = null;
  const path = location.pathname;
  const ctx = { navigate, signedIn, signOut };
  if (path === ROUTES.acceptInvite) {
    root.className = "signed-out";
    current = auth.acceptInvite(root, ctx, new URLSearchParams(location.hash.slice(1)).get("token"));
    return;
  }
  if (token() && !me) {
    try { me = await api("GET", API.me); } catch { setToken(null); }
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
  if (path === ROUTES.account) {
    current = auth.changePassword(shell("account"), ctx);
    return;
  }
  if (path.startsWith(ROUTES.contact) && path.length > ROUTES.contact.length) {
    current = contactPage.mount(shell("contact"), { ...ctx, me, id: decodeURIComponent(path.slice(ROUTES.contact.length)) });
    return;
  }
  if (path !== ROUTES.grid) history.replaceState(null, "", ROUTES.grid);
  current = gridPage.mount(shell("grid"), { ...ctx, me });
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
