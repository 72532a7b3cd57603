// `/organizations/<id>`: an organization's fields (edit in place), its contacts (a paginated,
// searchable list whose state is in the URL), and soft delete with Restore (its contacts stay).
import { api } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { listView } from "../widgets/listview.js";
import { deletedBanner, fullName, recordForm, tagChips, words } from "../widgets/records.js";
import { ORGANIZATION_FIELDS, organizationValues } from "./organizations.js";

export function mount(root, ctx) {
  const { id } = ctx;
  const admin = ctx.me?.role === "admin";
  const url = `${API.organizations}/${encodeURIComponent(id)}`;
  let stopped = false, people = null;
  const back = h("a.back-link", { href: ROUTES.organizations, dataset: { link: "" } }, "← All organizations");
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Loading…");
  const message = h("p.muted", { role: "status" });
  const banner = h("div");
  const actions = h("div.page-actions");
  const details = h("div.dossier-details");
  const contacts = h("div.dossier-sections");
  root.replaceChildren(h("section.contact-page.dossier.organization-page", { "aria-labelledby": "page-title" },
    back, title, message, banner, actions, details, contacts));

  async function load({ focus = false } = {}) {
    let org;
    try {
      org = await api("GET", url).catch((error) => {
        if (error.status === 404 && admin) return api("GET", `${url}?include_deleted=1`);
        throw error;
      });
    } catch (error) {
      if (stopped) return;
      title.textContent = "Organization not found";
      message.textContent = error.status === 404 ? "This organization no longer exists." : `Could not load this organization: ${error.message}`;
      return;
    }
    if (stopped) return;
    show(org);
    if (focus) title.focus({ preventScroll: true });
  }

  function show(org) {
    title.textContent = org.name;
    document.title = `${org.name} · Venture CRM`;
    message.textContent = "";
    banner.replaceChildren(org.deleted_at ? deletedBanner(url, () => load({ focus: true })) : "");
    const edit = h("button", { type: "button", onclick: () => editor(org) }, "Edit");
    const remove = h("button.danger", { type: "button" }, "Delete organization");
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      remove.textContent = "Deleting…";
      try {
        await api("DELETE", url);
        actions.replaceChildren();
        const restore = deletedBanner(url, () => load({ focus: true }));
        restore.firstChild.textContent = `Deleted ${org.name}. Its contacts stay, without an organization.`;
        banner.replaceChildren(restore);
        restore.querySelector("button").focus();
      } catch (error) {
        remove.disabled = false;
        remove.textContent = "Delete organization";
        message.textContent = `Could not delete: ${error.message}`;
      }
    });
    actions.replaceChildren(...(org.deleted_at ? [] : [edit, remove]));
    details.replaceChildren(fieldList(org));
    if (!people) {
      people = listView({ url: `${url}/contacts`, label: "Contacts of this organization", empty: "No contacts at this organization.",
        columns: [
          { key: "name", label: "Name", sort: "last_name", render: (c) => h("a", { href: `${ROUTES.contact}${encodeURIComponent(c.id)}`, dataset: { link: "" } }, fullName(c)) },
          { key: "email", label: "Email", sort: "email" },
          { key: "title", label: "Title" },
          { key: "status", label: "Status", sort: "status", render: (c) => words(c.status) },
        ] });
      contacts.replaceChildren(h("section.dossier-section", { dataset: { section: "contacts" }, "aria-labelledby": "org-contacts-title" },
        h("h2", { id: "org-contacts-title" }, "Contacts"), people.element));
    }
  }

  function editor(org) {
    const form = recordForm({
      fields: ORGANIZATION_FIELDS, label: "Edit organization",
      values: { ...org, tags: (org.tags || []).join(", ") },
      prepare: organizationValues,
      save: (values) => api("PATCH", url, values),
      onDone: () => load({ focus: true }),
      onCancel: () => { details.replaceChildren(fieldList(org)); actions.querySelector("button")?.focus(); },
    });
    details.replaceChildren(h("section.panel-card", { "aria-label": "Edit organization" }, h("h2", {}, "Edit details"), form.element));
    form.focus();
  }

  function fieldList(org) {
    const entries = [["Type", words(org.type)]];
    if (org.website) entries.push(["Website", /^https?:\/\//i.test(org.website)
      ? h("a", { href: org.website, rel: "noopener noreferrer", target: "_blank" }, org.website) : org.website]);
    if (org.domain) entries.push(["Domain", org.domain]);
    if (org.tags?.length) entries.push(["Tags", tagChips(org.tags)]);
    if (org.description) entries.push(["Description", org.description]);
    return h("dl.contact-fields", {}, ...entries.flatMap(([label, value]) => [h("dt", {}, label), h("dd", { dataset: { field: label } }, value)]));
  }

  load();
  title.focus({ preventScroll: true });
  return () => { stopped = true; people?.stop(); };
}
