// `/contacts`: the classic CRM's contacts: search, sort, filter by type and status, pages (all in the
// URL), "New contact", CSV export and import (a dry run first), and for admins "Show deleted" with Restore.
import { api, authHeaders, unauthorized, ApiError } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { listView } from "../widgets/listview.js";
import { deletedToggle, download, filterSelect, fullName, recordForm, restoreButton, tagList, when, words } from "../widgets/records.js";

export const CONTACT_TYPES = ["prospect", "investor", "advisor", "service_provider", "other"];
export const CONTACT_STATUSES = ["active", "inactive", "do_not_contact"];

/** The contact form's fields (the new-contact form and the dossier's editor). */
export const CONTACT_FIELDS = [
  { name: "first_name", label: "First name", required: true, blank: "" },
  { name: "last_name", label: "Last name", required: true, blank: "" },
  { name: "email", label: "Email", type: "email" },
  { name: "phone", label: "Phone" },
  { name: "title", label: "Title" },
  { name: "organization_id", label: "Organization" },
  { name: "contact_type", label: "Type", type: "select", options: CONTACT_TYPES, required: true },
  { name: "status", label: "Status", type: "select", options: CONTACT_STATUSES, required: true },
  { name: "source", label: "Source" },
  { name: "tags", label: "Tags (comma-separated)", blank: "" },
  { name: "city", label: "City" },
  { name: "country", label: "Country" },
  { name: "linkedin_url", label: "LinkedIn" },
  { name: "notes", label: "Notes", type: "textarea" },
];

/** The organization box of a contact form: a name with suggestions, read back as an id. */
export function organizationPicker(form, current) {
  const input = form.input("organization_id");
  const list = h("datalist", { id: "organization-choices" });
  const known = new Map();  // lower-case name → id
  if (current?.id) known.set(current.name.toLowerCase(), current.id);
  input.value = current?.name || "";
  input.setAttribute("list", list.id);
  input.setAttribute("autocomplete", "off");
  input.after(list);
  let typing;
  input.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(async () => {
      const q = input.value.trim();
      if (!q) return;
      const found = await api("GET", `${API.organizations}?limit=20&q=${encodeURIComponent(q)}`).catch(() => []);
      for (const o of found) known.set(o.name.toLowerCase(), o.id);
      list.replaceChildren(...found.map((o) => h("option", { value: o.name })));
    }, 200);
  });
  /** The id for the typed name (null when blank); an unknown name is a field error. */
  return async function resolve(values) {
    const name = (values.organization_id || "").trim();
    if (!name) return { ...values, organization_id: null };
    let id = known.get(name.toLowerCase());
    if (!id) {
      const found = await api("GET", `${API.organizations}?limit=20&q=${encodeURIComponent(name)}`);
      id = found.find((o) => o.name.toLowerCase() === name.toLowerCase())?.id;
    }
    if (!id) throw new ApiError(422, { error: "invalid fields: organization_id", fields: { organization_id: `no organization is called "${name}": create it on the Organizations page first` } });
    return { ...values, organization_id: id };
  };
}

export function contactValues(values) {
  return { ...values, tags: tagList(values.tags) };
}

export function mount(root, ctx) {
  const admin = ctx.me?.role === "admin";
  const status = h("p.page-status", { role: "status" });
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Contacts");
  const params = () => {
    const query = new URLSearchParams(location.search);
    const out = {};
    for (const key of ["contact_type", "status"]) if (query.get(key)) out[key] = query.get(key);
    if (admin && query.get("deleted") === "1") out.include_deleted = 1;
    return out;
  };
  const columns = [
    { key: "name", label: "Name", sort: "last_name", render: (c) => h("span.name-cell", {},
      h("a", { href: `${ROUTES.contact}${encodeURIComponent(c.id)}`, dataset: { link: "" } }, fullName(c)),
      c.deleted_at ? h("span.badge.deleted", {}, "deleted") : null) },
    { key: "organization_name", label: "Organization", render: (c) => c.organization_id && c.organization_name
      ? h("a", { href: `${ROUTES.organization}${encodeURIComponent(c.organization_id)}`, dataset: { link: "" } }, c.organization_name) : null },
    { key: "email", label: "Email", sort: "email" },
    { key: "title", label: "Title" },
    { key: "contact_type", label: "Type", sort: "contact_type", render: (c) => words(c.contact_type) },
    { key: "status", label: "Status", sort: "status", render: (c) => words(c.status) },
    { key: "updated_at", label: "Updated", sort: "updated_at", render: (c) => when(c.updated_at, { dateOnly: true }) },
  ];
  if (admin) columns.push({ key: "restore", label: "", render: (c) => c.deleted_at
    ? restoreButton(`${API.contacts}/${encodeURIComponent(c.id)}`, () => list.reload()) : h("span") });
  const list = listView({ url: API.contacts, columns, label: "Contacts", params: params(), empty: "No contacts match." });
  const refilter = () => list.setParams(params());

  const newButton = h("button.primary", { type: "button", "aria-expanded": "false" }, "New contact");
  const exportButton = h("button", { type: "button" }, "Export CSV");
  const importInput = h("input.sr-only", { type: "file", id: "import-file", accept: ".csv,text/csv", tabindex: "-1", "aria-label": "CSV file to import" });
  const importButton = h("button", { type: "button", onclick: () => importInput.click() }, "Import CSV…");
  const panel = h("div.page-panel");
  const filters = h("div.list-filters", {},
    filterSelect("contact_type", "Type", CONTACT_TYPES, refilter),
    filterSelect("status", "Status", CONTACT_STATUSES, refilter),
    admin ? deletedToggle(refilter).element : null);

  newButton.addEventListener("click", () => {
    if (newButton.getAttribute("aria-expanded") === "true") return closePanel();
    const editor = recordForm({
      fields: CONTACT_FIELDS, values: { contact_type: "prospect", status: "active" }, submitLabel: "Create contact", label: "New contact",
      prepare: (values) => resolve(contactValues(values)),
      save: (values) => api("POST", API.contacts, values),
      onDone: (contact) => ctx.navigate(`${ROUTES.contact}${encodeURIComponent(contact.id)}`),
      onCancel: closePanel,
    });
    const resolve = organizationPicker(editor.form, null);
    panel.replaceChildren(h("section.panel-card", { "aria-label": "New contact" }, h("h2", {}, "New contact"), editor.element));
    newButton.setAttribute("aria-expanded", "true");
    editor.focus();
  });
  function closePanel() {
    panel.replaceChildren();
    newButton.setAttribute("aria-expanded", "false");
    newButton.focus();
  }
  exportButton.addEventListener("click", () => download(API.exportContacts, "contacts.csv", exportButton, status));
  importInput.addEventListener("change", async () => {
    const file = importInput.files[0];
    importInput.value = "";
    if (file) importFlow(file);
  });

  async function importFlow(file) {
    newButton.setAttribute("aria-expanded", "false");
    const text = await file.text();
    const report = h("div.import-report", { role: "status" }, `Checking ${file.name}…`);
    const card = h("section.panel-card", { "aria-label": "Import contacts", "aria-busy": "true" }, h("h2", {}, `Import ${file.name}`), report);
    panel.replaceChildren(card);
    try {
      const dry = await sendCsv(text, true);
      card.removeAttribute("aria-busy");
      const problems = dry.errors.length;
      const commit = h("button.primary", { type: "button", disabled: problems > 0 }, "Import");
      const cancel = h("button", { type: "button", onclick: () => { panel.replaceChildren(); importButton.focus(); } }, "Cancel");
      report.replaceChildren(...[
        h("p.import-summary", {}, `This file would create ${dry.created}, update ${dry.updated} and leave ${dry.unchanged} unchanged.`),
        ...dry.warnings.map((w) => h("p.muted", {}, w)),
        problems ? h("div", {}, h("p.error", {}, `${problems} problem(s): fix the file and choose it again; nothing is imported while any remains.`),
          h("table.list.import-errors", { "aria-label": "Problems" }, h("thead", {}, h("tr", {}, h("th", {}, "Row"), h("th", {}, "Field"), h("th", {}, "Problem"))),
            h("tbody", {}, ...dry.errors.map((e) => h("tr", {}, h("td", {}, e.row), h("td", {}, e.field ? words(e.field) : "—"), h("td", {}, e.message)))))) : null,
        h("div.form-actions", {}, commit, cancel)].filter(Boolean));
      commit.addEventListener("click", async () => {
        commit.disabled = true;
        commit.textContent = "Importing…";
        card.setAttribute("aria-busy", "true");
        try {
          const done = await sendCsv(text, false);
          report.replaceChildren(h("p.import-summary", {}, `Imported: ${done.created} created, ${done.updated} updated, ${done.unchanged} unchanged.`),
            h("div.form-actions", {}, h("button", { type: "button", onclick: () => { panel.replaceChildren(); importButton.focus(); } }, "Close")));
          list.reload();
        } catch (error) {
          report.append(h("p.error", {}, `Nothing was imported: ${error.message}`));
          commit.textContent = "Import";
        } finally {
          card.removeAttribute("aria-busy");
        }
      });
      commit.disabled ? cancel.focus() : commit.focus();
    } catch (error) {
      card.removeAttribute("aria-busy");
      report.replaceChildren(h("p.error", {}, `Could not read this file: ${error.message}`));
    }
  }

  root.replaceChildren(h("section.records-page.contacts-page", { "aria-labelledby": "page-title" }, title,
    h("div.page-actions", {}, newButton, exportButton, importButton, importInput, status), panel, filters, list.element));
  title.focus({ preventScroll: true });
  return () => list.stop();
}

/** POST the CSV text to the import route (a dry run or the real thing); the report, or an ApiError. */
async function sendCsv(text, dryRun) {
  const response = await fetch(`${API.importContacts}${dryRun ? "?dry_run=1" : ""}`, {
    method: "POST", headers: authHeaders({ "Content-Type": "text/csv" }), body: text });
  const payload = await response.json().catch(() => ({}));
  if (response.status === 401) unauthorized();
  if (!response.ok) throw new ApiError(response.status, payload);
  return payload.data;
}
