// `/organizations`: search, sort, filter by type, pages (all in the URL), "New organization", and for
// admins "Show deleted" with Restore. Each name opens `/organizations/<id>` (pages/organization.js).
import { api } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { listView } from "../widgets/listview.js";
import { deletedToggle, filterSelect, recordForm, restoreButton, tagList, when, words } from "../widgets/records.js";

export const ORGANIZATION_TYPES = ["family_office", "fund_of_funds", "endowment", "foundation", "pension", "corporate", "bank",
  "wealth_manager", "individual", "venture_fund", "service_provider", "other"];

export const ORGANIZATION_FIELDS = [
  { name: "name", label: "Name", required: true, blank: "" },
  { name: "type", label: "Type", type: "select", options: ORGANIZATION_TYPES, required: true },
  { name: "website", label: "Website" },
  { name: "domain", label: "Domain" },
  { name: "tags", label: "Tags (comma-separated)", blank: "" },
  { name: "description", label: "Description", type: "textarea" },
];

export function organizationValues(values) {
  const out = { ...values, tags: tagList(values.tags) };
  if (!out.domain && out.website) delete out.domain;  // left out, the server reads it from the website
  return out;
}

export function mount(root, ctx) {
  const admin = ctx.me?.role === "admin";
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Organizations");
  const params = () => {
    const query = new URLSearchParams(location.search);
    const out = {};
    if (query.get("type")) out.type = query.get("type");
    if (admin && query.get("deleted") === "1") out.include_deleted = 1;
    return out;
  };
  const columns = [
    { key: "name", label: "Name", sort: "name", render: (o) => h("span.name-cell", {},
      h("a", { href: `${ROUTES.organization}${encodeURIComponent(o.id)}`, dataset: { link: "" } }, o.name),
      o.deleted_at ? h("span.badge.deleted", {}, "deleted") : null) },
    { key: "type", label: "Type", sort: "type", render: (o) => words(o.type) },
    { key: "domain", label: "Domain", sort: "domain" },
    { key: "tags", label: "Tags", render: (o) => (o.tags || []).join(", ") },
    { key: "updated_at", label: "Updated", sort: "updated_at", render: (o) => when(o.updated_at, { dateOnly: true }) },
  ];
  if (admin) columns.push({ key: "restore", label: "", render: (o) => o.deleted_at
    ? restoreButton(`${API.organizations}/${encodeURIComponent(o.id)}`, () => list.reload()) : h("span") });
  const list = listView({ url: API.organizations, columns, label: "Organizations", params: params(), empty: "No organizations match." });
  const refilter = () => list.setParams(params());
  const newButton = h("button.primary", { type: "button", "aria-expanded": "false" }, "New organization");
  const panel = h("div.page-panel");
  newButton.addEventListener("click", () => {
    if (newButton.getAttribute("aria-expanded") === "true") return closePanel();
    const editor = recordForm({
      fields: ORGANIZATION_FIELDS, values: { type: "other" }, submitLabel: "Create organization", label: "New organization",
      prepare: organizationValues,
      save: (values) => api("POST", API.organizations, values),
      onDone: (org) => ctx.navigate(`${ROUTES.organization}${encodeURIComponent(org.id)}`),
      onCancel: closePanel,
    });
    panel.replaceChildren(h("section.panel-card", { "aria-label": "New organization" }, h("h2", {}, "New organization"), editor.element));
    newButton.setAttribute("aria-expanded", "true");
    editor.focus();
  });
  function closePanel() {
    panel.replaceChildren();
    newButton.setAttribute("aria-expanded", "false");
    newButton.focus();
  }
  root.replaceChildren(h("section.records-page.organizations-page", { "aria-labelledby": "page-title" }, title,
    h("div.page-actions", {}, newButton), panel,
    h("div.list-filters", {}, filterSelect("type", "Type", ORGANIZATION_TYPES, refilter), admin ? deletedToggle(refilter).element : null),
    list.element));
  title.focus({ preventScroll: true });
  return () => list.stop();
}
