// A classic CRM contact, read-only: `/contacts/<id>` (the row drawer links its people here). The SPA's
// first page of the classic CRM: its fields, organization and communications, from the contacts API.
// `?row=<investor id>` (set by the drawer) adds a way back to that investor in the grid.
import { api } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { display } from "../widgets/columns.js";

const LABELS = { title: "Title", email: "Email", phone: "Phone", contact_type: "Type", status: "Status", source: "Source",
  city: "City", country: "Country", linkedin_url: "LinkedIn", notes: "Notes" };
const words = (v) => String(v).replace(/_/g, " ");

export function mount(root, { id }) {
  let stopped = false;
  const row = new URLSearchParams(location.search).get("row");
  const back = h("a.back-link", { href: row ? `${ROUTES.grid}?row=${encodeURIComponent(row)}` : ROUTES.grid, dataset: { link: "" } },
    row ? "← Back to the investor" : "← Back to the grid");
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Loading…");
  const fields = h("dl.contact-fields");
  const comms = h("ol.communication-list", { "aria-label": "Communications" });
  const message = h("p.muted", { role: "status" });
  root.replaceChildren(h("section.contact-page", { "aria-labelledby": "page-title" }, back, title, message, fields,
    h("h2", {}, "Communications"), comms));

  (async () => {
    try {
      const contact = await api("GET", `${API.contacts}/${encodeURIComponent(id)}`);
      if (stopped) return;
      const name = [contact.first_name, contact.last_name].filter(Boolean).join(" ").trim() || contact.email || "Unnamed contact";
      title.textContent = name;
      document.title = `${name} · Venture CRM`;
      const org = contact.organization_id
        ? await api("GET", `/api/organizations/${encodeURIComponent(contact.organization_id)}`).catch(() => null) : null;
      const entries = [];
      if (org?.name) entries.push(["Organization", org.name]);
      for (const [key, label] of Object.entries(LABELS)) {
        const value = contact[key];
        if (value === null || value === undefined || value === "") continue;
        let shown = ["contact_type", "status"].includes(key) ? words(value) : String(value);
        if (key === "email") shown = h("a", { href: `mailto:${value}` }, value);
        else if (key === "phone") shown = h("a", { href: `tel:${String(value).replace(/[^\d+]/g, "")}` }, value);
        else if (key === "linkedin_url" && /^https?:\/\//i.test(value)) shown = h("a", { href: value, rel: "noopener noreferrer", target: "_blank" }, value);
        entries.push([label, shown]);
      }
      if (stopped) return;
      fields.replaceChildren(...entries.flatMap(([label, value]) => [h("dt", {}, label), h("dd", { dataset: { field: label } }, value)]));
      const found = await api("GET", `${API.contacts}/${encodeURIComponent(id)}/communications?limit=50`);
      if (stopped) return;
      comms.replaceChildren(...(found.length ? found.map((c) => h("li.communication", {},
        h("div.comm-meta", {}, h("time", { datetime: c.communication_date }, display({ type: "date" }, c.communication_date)), h("span.comm-type", {}, c.type)),
        c.subject ? h("div.comm-subject", {}, c.subject) : null, c.body ? h("p.comm-body", {}, c.body) : null))
        : [h("li.empty", {}, "No communications logged yet.")]));
    } catch (error) {
      if (stopped) return;
      title.textContent = "Contact not found";
      message.textContent = error.status === 404 ? "This contact no longer exists." : `Could not load this contact: ${error.message}`;
    }
  })();
  title.focus({ preventScroll: true });
  return () => { stopped = true; };
}
