// Settings: `/settings/<tab>`. Everyone has "Me" (name, digest opt-out, password, personal blocklist);
// admins also have Users, Daily digest, Backups, Gmail, Search index, Security, Audit log and Reset
// (pages/settings_admin.js).
// Each tab is a sub-path, so it is deep-linkable and survives a reload; back/forward walk the tabs.
import { api, setToken } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "../widgets/form.js";
import { blocklist, busy, linkBox, pagedTable, statusLine, when } from "../widgets/settingskit.js";
import { audit, backups, digest, gmail, reset, searchIndex, security } from "./settings_admin.js";

const TABS = [
  { id: "me", label: "Me", mount: meTab },
  { id: "users", label: "Users", admin: true, mount: usersTab },
  { id: "digest", label: "Daily digest", admin: true, mount: digest },
  { id: "backups", label: "Backups", admin: true, mount: backups },
  { id: "gmail", label: "Gmail", admin: true, mount: gmail },
  { id: "search-index", label: "Search index", admin: true, mount: searchIndex },
  { id: "security", label: "Security", admin: true, mount: security },
  { id: "audit", label: "Audit log", admin: true, mount: audit },
  { id: "reset", label: "Reset all data", admin: true, mount: reset },
];

export function mount(root, ctx) {
  const isAdmin = ctx.me?.role === "admin";
  const shownTabs = TABS.filter((t) => !t.admin || isAdmin);
  let tab = TABS.find((t) => t.id === (ctx.id || "me"));
  const notice = h("p.settings-notice", { role: "status" });
  if (!tab || (tab.admin && !isAdmin)) {
    if (tab) notice.textContent = "That section is for admins.";
    tab = TABS[0];
    history.replaceState(null, "", `${ROUTES.settings}/${tab.id}`);
  }
  const nav = h("nav.settings-tabs", { "aria-label": "Settings sections" }, ...shownTabs.map((t) =>
    h("a", { href: `${ROUTES.settings}/${t.id}`, dataset: { link: "" }, "aria-current": t === tab ? "page" : null }, t.label)));
  const title = h("h2", { id: "settings-tab-title", tabindex: "-1" }, tab.label);
  const panel = h("div.settings-panel");
  root.replaceChildren(h("section.records-page.settings-page", { "aria-labelledby": "page-title" },
    h("h1", { id: "page-title" }, "Settings"), nav, notice,
    h("div.settings-body", { "aria-labelledby": "settings-tab-title" }, title, panel)));
  document.title = `${tab.label} · Settings · Venture CRM`;
  const life = { stopped: false };
  let unmount;
  try {
    unmount = tab.mount(panel, ctx, life);
  } catch (error) {
    panel.replaceChildren(h("p.error", { role: "alert" }, `Could not show this section: ${error.message}`));
  }
  if (ctx.id) title.focus({ preventScroll: true });
  return () => { life.stopped = true; unmount?.(); };
}

// -- Me ----------------------------------------------------------------------------------------------

function meTab(panel, ctx, life) {
  const profile = formFields([
    { name: "display_name", label: "Display name" },
    { name: "digest_opt_out", label: "Don't send me the evening digest", type: "checkbox" },
  ], ctx.me || {});
  const saved = statusLine();
  const save = h("button.primary", { type: "submit" }, "Save");
  const profileForm = h("form.settings-form", { "aria-label": "Profile" }, profile.element, h("div.page-actions", {}, save, saved));
  profileForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    profile.clearErrors();
    saved.set("");
    const { display_name, digest_opt_out } = profile.read();
    try {
      const user = await busy(save, "Saving…", () => api("PATCH", API.updateMe, { display_name: display_name ?? "", digest_opt_out }));
      if (ctx.me) Object.assign(ctx.me, user);
      const name = document.querySelector(".user-menu .me-name");
      if (name) name.textContent = user.display_name || user.username;
      saved.set("Saved.");
    } catch (error) {
      profile.showErrors(error);
    }
  });
  profile.element.append(h("p.muted.form-note", {}, ctx.me?.role === "admin"
    ? "The evening digest goes to active admins with an email address, unless they opt out here."
    : "The evening digest goes to admins only; this matters if you become one."));

  const pw = formFields([
    { name: "current_password", label: "Current password", required: true },
    { name: "new_password", label: "New password (10+ characters)", required: true },
  ]);
  pw.input("current_password").type = "password";
  pw.input("current_password").autocomplete = "current-password";
  pw.input("new_password").type = "password";
  pw.input("new_password").autocomplete = "new-password";
  const pwSaved = statusLine();
  const change = h("button.primary", { type: "submit" }, "Change password");
  const pwForm = h("form.settings-form", { "aria-label": "Change password" }, pw.element, h("div.page-actions", {}, change, pwSaved));
  pwForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    pw.clearErrors();
    pwSaved.set("");
    try {
      const session = await busy(change, "Changing…", () => api("POST", API.changePassword, pw.read()));
      setToken(session.token);  // the old token ended with the change: this tab carries on with the new one
      pwForm.reset();
      pwSaved.set("Password changed. Your other sessions have ended.");
    } catch (error) {
      pw.showErrors(error);
    }
  });

  const block = h("div.blocklist");
  panel.replaceChildren(
    h("h3", {}, "Profile"), profileForm,
    h("h3", {}, "Password"), h("p.muted", {}, "Your other sessions end when the password changes."), pwForm,
    h("h3", {}, "My email blocklist"), block);
  blocklist(block, { scope: "mine", isAdmin: ctx.me?.role === "admin", life, capture: ctx.features.email_capture });
  return () => {};
}

// -- Users (admin) -------------------------------------------------------------------------------------

const ROLES = [["member", "Member"], ["admin", "Admin"], ["bot", "Bot"]];

function usersTab(panel, ctx, life) {
  const said = statusLine();
  const links = h("div.links");
  const invite = formFields([
    { name: "username", label: "Username", required: true },
    { name: "email", label: "Email", type: "email" },
    { name: "display_name", label: "Display name" },
    { name: "role", label: "Role", type: "select", options: ROLES, required: true },
  ]);
  const send = h("button.primary", { type: "submit" }, "Invite");
  const inviteForm = h("form.settings-form", { "aria-label": "Invite a user" }, invite.element, h("div.page-actions", {}, send));
  inviteForm.addEventListener("submit", async (event) => {
    event.preventDefault();
    invite.clearErrors();
    try {
      const made = await busy(send, "Inviting…", () => api("POST", API.adminUsers, invite.read()));
      inviteForm.reset();
      showLink(`Invitation link for ${made.user.username}`, made.invite);
      table.reload();
    } catch (error) {
      invite.showErrors(error);
    }
  });
  function showLink(title, link) {
    links.replaceChildren(linkBox(title, link.url,
      `Works once, until ${when(link.expires_at)}. Send it to them yourself: the CRM does not email it.`));
  }
  async function change(user, patch, button, working) {
    said.set("");
    try {
      const done = await busy(button, working, () => api("PATCH", `${API.adminUsers}/${encodeURIComponent(user.id)}`, patch));
      if (done.invite) showLink(`Password-reset link for ${user.username}`, done.invite);
      said.set(patch.reset_password ? `A reset link for ${user.username} is below.` : `${user.username} updated.`);
      table.reload();
    } catch (error) {
      said.set(error.message, "error");
      table.reload();
    }
  }
  const table = pagedTable({
    url: API.users, label: "Users", pageSize: 50,
    columns: [
      { label: "Username", key: "username", render: (u) => h("span", {}, u.username, u.id === ctx.me?.id ? h("span.muted", {}, " (you)") : null) },
      { label: "Name", key: "display_name" },
      { label: "Email", key: "email" },
      { label: "Role", key: "role", render: (u) => {
        const select = h("select", { "aria-label": `Role of ${u.username}` }, ...ROLES.map(([v, l]) => h("option", { value: v }, l)));
        select.value = u.role;
        select.addEventListener("change", () => change(u, { role: select.value }, select, select.value));
        return select;
      } },
      { label: "Status", key: "is_active", render: (u) => u.is_active ? (u.has_password ? "Active" : "Invited") : "Deactivated" },
      { label: "Last sign-in", key: "last_login_at", render: (u) => when(u.last_login_at) },
      { label: "Actions", key: "actions", render: (u) => h("div.row-actions", {},
        u.id === ctx.me?.id ? null : h("button.small", { type: "button", "aria-label": `${u.is_active ? "Deactivate" : "Reactivate"} ${u.username}`,
          onclick: (e) => change(u, { is_active: !u.is_active }, e.currentTarget, "…") },
          u.is_active ? `Deactivate` : `Reactivate`),
        u.is_active ? h("button.small", { type: "button", "aria-label": `Reset password of ${u.username}`,
          onclick: (e) => change(u, { reset_password: true }, e.currentTarget, "…") },
          "Reset password") : null) },
    ],
  });
  panel.replaceChildren(said, links, table.element, h("h3", {}, "Invite someone"),
    h("p.muted", {}, "They get a one-time link that sets their password. Bots are for the Matrix bridge."), inviteForm);
  return () => table.stop();
}
