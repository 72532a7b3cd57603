// `/contacts/<id>`: a classic contact's dossier: its details (edit in place), organization, tags,
// communications timeline (paginated, "Log communication"), opportunities, LP profile, and soft delete
// with Restore. `?row=<investor id>` (set by the grid's row drawer) adds a way back to that investor.
// Captured email threads are not shown: GET /api/email/threads filters by grid investor only, not by contact.
import { api, apiPage } from "../api.js";
import { API, ROUTES } from "../config.js";
import { h } from "../dom.js";
import { CONTACT_FIELDS, contactValues, organizationPicker } from "./contacts.js";
import { deletedBanner, fullName, money, recordForm, tagChips, when, words } from "../widgets/records.js";

const LABELS = { title: "Title", email: "Email", phone: "Phone", contact_type: "Type", status: "Status", source: "Source",
  city: "City", country: "Country", linkedin_url: "LinkedIn", notes: "Notes" };
const COMMUNICATION_TYPES = ["note", "call", "email", "meeting", "text"];
const LP_FLAGS = { accredited: "Accredited", qualified_purchaser: "Qualified purchaser", legal_docs_signed: "Legal docs signed",
  wire_received: "Wire received", k1_sent: "K-1 sent" };

export function mount(root, ctx) {
  const { id } = ctx;
  const admin = ctx.me?.role === "admin";
  const url = `${API.contacts}/${encodeURIComponent(id)}`;
  let stopped = false;
  const row = new URLSearchParams(location.search).get("row");
  const back = h("a.back-link", { href: row ? `${ROUTES.grid}?row=${encodeURIComponent(row)}` : ROUTES.contacts, dataset: { link: "" } },
    row ? "← Back to the investor" : "← All contacts");
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Loading…");
  const message = h("p.muted", { role: "status" });
  const banner = h("div");
  const actions = h("div.page-actions");
  const details = h("div.dossier-details");
  const sections = h("div.dossier-sections");
  root.replaceChildren(h("section.contact-page.dossier", { "aria-labelledby": "page-title" }, back, title, message, banner, actions, details, sections));

  async function load({ focus = false } = {}) {
    let contact;
    try {
      contact = await api("GET", url).catch((error) => {
        if (error.status === 404 && admin) return api("GET", `${url}?include_deleted=1`);
        throw error;
      });
    } catch (error) {
      if (stopped) return;
      title.textContent = "Contact not found";
      document.title = "Contact not found · Venture CRM";
      message.textContent = error.status === 404 ? "This contact no longer exists." : `Could not load this contact: ${error.message}`;
      actions.replaceChildren(); details.replaceChildren(); sections.replaceChildren(); banner.replaceChildren();
      return;
    }
    if (stopped) return;
    show(contact);
    if (focus) title.focus({ preventScroll: true });
  }

  function show(contact) {
    const name = fullName(contact);
    title.textContent = name;
    document.title = `${name} · Venture CRM`;
    message.textContent = "";
    banner.replaceChildren(contact.deleted_at ? deletedBanner(url, () => load({ focus: true })) : "");
    const edit = h("button", { type: "button", onclick: () => editor(contact) }, "Edit");
    const remove = h("button.danger", { type: "button" }, "Delete contact");
    remove.addEventListener("click", async () => {
      remove.disabled = true;
      remove.textContent = "Deleting…";
      try {
        const gone = await api("DELETE", url);
        const also = gone.also_deleted || {};
        const extra = [["communications", "communication"], ["opportunities", "opportunity"], ["lp_profiles", "LP profile"]]
          .filter(([key]) => also[key]).map(([key, noun]) => `${also[key]} ${noun}${also[key] === 1 ? "" : "s"}`.replace("opportunitys", "opportunities"));
        actions.replaceChildren(); details.replaceChildren(); sections.replaceChildren();
        const restore = deletedBanner(url, () => load({ focus: true }));
        restore.firstChild.textContent = `Deleted ${name}${extra.length ? ` with ${extra.join(", ")}` : ""}.`;
        banner.replaceChildren(restore);
        restore.querySelector("button").focus();
      } catch (error) {
        remove.disabled = false;
        remove.textContent = "Delete contact";
        message.textContent = `Could not delete: ${error.message}`;
      }
    });
    actions.replaceChildren(...(contact.deleted_at ? [] : [edit, remove]));
    details.replaceChildren(fieldList(contact));
    sections.replaceChildren(...(contact.deleted_at ? [] : [gridRows(), communications(contact), opportunities(), lpProfile(),
      ctx.features.email_capture ? emailThreads() : null].filter(Boolean)));
  }

  function editor(contact) {
    const form = recordForm({
      fields: CONTACT_FIELDS, label: "Edit contact",
      values: { ...contact, tags: (contact.tags || []).join(", ") },
      prepare: (values) => resolve(contactValues(values)),
      save: (values) => api("PATCH", url, values),
      onDone: () => load({ focus: true }),
      onCancel: () => { details.replaceChildren(fieldList(contact)); actions.querySelector("button")?.focus(); },
    });
    const resolve = organizationPicker(form.form, contact.organization);
    details.replaceChildren(h("section.panel-card", { "aria-label": "Edit contact" }, h("h2", {}, "Edit details"), form.element));
    form.focus();
  }

  function fieldList(contact) {
    const entries = [];
    const org = contact.organization;
    if (org?.name) entries.push(["Organization", h("a", { href: `${ROUTES.organization}${encodeURIComponent(org.id)}`, dataset: { link: "" } }, org.name)]);
    for (const [key, label] of Object.entries(LABELS)) {
      const value = contact[key];
      if (value === null || value === undefined || value === "") continue;
      let shown = ["contact_type", "status"].includes(key) ? words(value) : String(value);
      if (key === "email") shown = h("a", { href: `mailto:${value}` }, value);
      else if (key === "phone") shown = h("a", { href: `tel:${String(value).replace(/[^\d+]/g, "")}` }, value);
      else if (key === "linkedin_url" && /^https?:\/\//i.test(value)) shown = h("a", { href: value, rel: "noopener noreferrer", target: "_blank" }, value);
      entries.push([label, shown]);
    }
    if (contact.tags?.length) entries.push(["Tags", tagChips(contact.tags)]);
    return h("dl.contact-fields", {}, ...entries.flatMap(([label, value]) => [h("dt", {}, label), h("dd", { dataset: { field: label } }, value)]));
  }

  function communications(contact) {
    const list = h("ol.communication-list", { "aria-label": "Communications" });
    const paged = pagedList(`${url}/communications`, 20, list, (c) => h("li.communication", { dataset: { communicationId: c.id } },
      h("div.comm-meta", {}, when(c.communication_date), h("span.comm-type", {}, words(c.type)), c.outcome ? h("span.comm-outcome", {}, c.outcome) : null),
      c.subject ? h("div.comm-subject", {}, c.subject) : null, c.body ? h("p.comm-body", {}, c.body) : null,
      c.next_action ? h("p.comm-next", {}, `Next: ${c.next_action}`) : null), "No communications logged yet.");
    const logButton = h("button", { type: "button", "aria-expanded": "false" }, "Log communication");
    const formSlot = h("div");
    logButton.addEventListener("click", () => {
      if (logButton.getAttribute("aria-expanded") === "true") { formSlot.replaceChildren(); logButton.setAttribute("aria-expanded", "false"); return; }
      const form = recordForm({
        label: "Log communication", submitLabel: "Log it", busyLabel: "Logging…",
        fields: [
          { name: "type", label: "Kind", type: "select", options: COMMUNICATION_TYPES, required: true },
          { name: "communication_date", label: "When", required: true },
          { name: "subject", label: "Subject" },
          { name: "body", label: "What happened", type: "textarea" },
          { name: "outcome", label: "Outcome" },
          { name: "next_action", label: "Next action" },
        ],
        values: { type: "call" },
        prepare: (values) => {
          const local = values.communication_date;
          const moment = local ? new Date(local) : null;  // datetime-local: the reader's time → ISO in UTC
          const out = { ...values, contact_id: contact.id, communication_date: moment && !Number.isNaN(moment.getTime()) ? moment.toISOString() : local };
          if (!local) delete out.communication_date;  // left out, the server says it "is required"
          return out;
        },
        save: (values) => api("POST", API.communications, values),
        onDone: () => { formSlot.replaceChildren(); logButton.setAttribute("aria-expanded", "false"); paged.reload(); logButton.focus(); },
        onCancel: () => { formSlot.replaceChildren(); logButton.setAttribute("aria-expanded", "false"); logButton.focus(); },
      });
      const date = form.form.input("communication_date");
      date.type = "datetime-local";
      const now = new Date();
      date.value = new Date(now.getTime() - now.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
      formSlot.replaceChildren(h("div.panel-card", {}, form.element));
      logButton.setAttribute("aria-expanded", "true");
      form.focus();
    });
    return h("section.dossier-section", { dataset: { section: "communications" }, "aria-labelledby": "comms-title" },
      h("div.section-head", {}, h("h2", { id: "comms-title" }, "Communications"), logButton), formSlot, paged.element);
  }

  /** The grid rows this contact is a person of: the way back to the fundraising grid. */
  function gridRows() {
    const list = h("ul.grid-rows", { "aria-label": "Grid rows" }, h("li.muted", {}, "Loading…"));
    api("GET", `${API.contactRows}?contact_id=${encodeURIComponent(id)}`).then((found) => {
      if (stopped) return;
      list.replaceChildren(...(found.length ? found.map((r) => h("li", {},
        h("a", { href: `${ROUTES.grid}?row=${encodeURIComponent(r.id)}`, dataset: { link: "" } }, r.name || "Unnamed investor")))
        : [h("li.muted", {}, "Not on any grid row.")]));
    }).catch((error) => { if (!stopped) list.replaceChildren(h("li.error", {}, `Could not load: ${error.message}`)); });
    return h("section.dossier-section", { dataset: { section: "grid-rows" }, "aria-labelledby": "rows-title" },
      h("h2", { id: "rows-title" }, "In the grid"), list);
  }

  /** Captured email threads with this contact (capture on): an admin opens them in Communications. */
  function emailThreads() {
    const list = h("ol.email-threads", { "aria-label": "Email threads" });
    const paged = pagedList(`${API.emailThreads}?contact_id=${encodeURIComponent(id)}`, 10, list, (t) => h("li.email-thread", {},
      admin
        ? h("a", { href: `/communications?q=${encodeURIComponent(t.subject || "")}`, dataset: { link: "" } }, t.subject || "(no subject)")
        : h("span", {}, t.subject || "(no subject)"),
      h("span.muted", {}, ` · ${t.message_count} message${t.message_count === 1 ? "" : "s"} · last `,
        when(t.last_at))), "No captured email with this contact.");
    return h("section.dossier-section", { dataset: { section: "email" }, "aria-labelledby": "email-title" },
      h("h2", { id: "email-title" }, "Email"), paged.element);
  }

  function opportunities() {
    const body = h("tbody");
    const table = h("table.list", { "aria-label": "Opportunities" }, h("thead", {}, h("tr", {},
      ...["Fund", "Stage", "Expected", "Committed", "Probability", "Next step"].map((t) => h("th", { scope: "col" }, t)))), body);
    const paged = pagedList(`${API.opportunities}?contact_id=${encodeURIComponent(id)}`, 20, body, (o) => h("tr", { dataset: { id: o.id } },
      h("td", {}, h("a", { href: `/opportunities/${encodeURIComponent(o.id)}`, dataset: { link: "" } }, o.fund_name || "Opportunity")),
      h("td", {}, words(o.stage)), h("td", {}, money(o.expected_amount)), h("td", {}, money(o.commitment_amount)),
      h("td", {}, o.probability === null || o.probability === undefined ? "—" : `${o.probability}%`), h("td", {}, o.next_step || "—")),
    "No opportunities.", (text) => h("tr.empty", {}, h("td", { colSpan: 6 }, text)), h("div.list-scroll", {}, table));
    return h("section.dossier-section", { dataset: { section: "opportunities" }, "aria-labelledby": "opps-title" },
      h("h2", { id: "opps-title" }, "Opportunities"), paged.element);
  }

  function lpProfile() {
    const slot = h("div", {}, h("p.muted", {}, "Loading…"));
    api("GET", `${API.lpProfiles}?contact_id=${encodeURIComponent(id)}&limit=1`).then(([lp]) => {
      if (stopped) return;
      if (!lp) { slot.replaceChildren(h("p.muted", {}, "No LP profile.")); return; }
      const entries = [["Commitment", money(lp.commitment_amount)], ["Funded", money(lp.funded_amount)],
        ["Investor type", lp.investor_type ? words(lp.investor_type) : "—"],
        ...Object.entries(LP_FLAGS).map(([key, label]) => [label, lp[key] ? "Yes" : "No"]),
        ["Accreditation", lp.accreditation_method ? words(lp.accreditation_method) : "—"],
        ["Accredited on", lp.accreditation_date ? when(`${lp.accreditation_date}T12:00:00`, { dateOnly: true }) : "—"]];
      if (lp.notes) entries.push(["Notes", lp.notes]);
      slot.replaceChildren(h("dl.contact-fields.lp-fields", {}, ...entries.flatMap(([label, value]) => [h("dt", {}, label), h("dd", { dataset: { field: label } }, value)])));
    }).catch((error) => { if (!stopped) slot.replaceChildren(h("p.error", {}, `Could not load the LP profile: ${error.message}`)); });
    return h("section.dossier-section", { dataset: { section: "lp-profile" }, "aria-labelledby": "lp-title" }, h("h2", { id: "lp-title" }, "LP profile"), slot);
  }

  /** A list loaded `size` at a time from a list route, with "Show more" until the total is reached. */
  function pagedList(base, size, container, item, emptyText, emptyNode = (text) => h("li.empty", {}, text), shell = container) {
    const more = h("button", { type: "button", hidden: true }, "Show more");
    const count = h("p.muted.count", { role: "status" }, "Loading…");
    let offset = 0;
    async function page(reset) {
      if (reset) offset = 0;
      more.disabled = true;
      try {
        const got = await apiPage(`${base}${base.includes("?") ? "&" : "?"}limit=${size}&offset=${offset}`);
        if (stopped) return;
        const nodes = got.data.map(item);
        if (reset) container.replaceChildren(...(nodes.length ? nodes : [emptyNode(emptyText)]));
        else container.append(...nodes);
        offset += got.data.length;
        count.textContent = got.total ? `${offset} of ${got.total}` : "";
        more.hidden = offset >= got.total;
      } catch (error) {
        if (!stopped) count.textContent = `Could not load: ${error.message}`;
      } finally {
        more.disabled = false;
      }
    }
    more.addEventListener("click", () => page(false));
    page(true);
    return { element: h("div.paged", {}, shell, h("div.pager", {}, count, more)), reload: () => page(true) };
  }

  load();
  title.focus({ preventScroll: true });
  return () => { stopped = true; };
}
