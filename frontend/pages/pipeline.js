// The pipeline: `/pipeline` is the board (one column per stage, cards moved by dragging or with each
// card's "Move to…" select, through PATCH /api/opportunities/{id}/stage), `/pipeline?view=list` the
// list (widgets/listview.js), `/opportunities/new` and `/opportunities/<id>` the opportunity editor.
// The board asks for every opportunity, a page of 1,000 at a time, so each column's count and sums
// are of all its cards (the list view is the way through a very long pipeline).
import { api, apiPage } from "../api.js";
import { ROUTES } from "../config.js";
import { h } from "../dom.js";
import { formFields } from "../widgets/form.js";
import { listView } from "../widgets/listview.js";

export const OPPORTUNITIES = "/api/opportunities";
export const STAGE_LABELS = {
  prospect: "Prospect", contacted: "Contacted", meeting: "Meeting", due_diligence: "Due diligence",
  soft_commit: "Soft commit", committed: "Committed", closed: "Closed", lost: "Lost",
};
export const STAGES = Object.keys(STAGE_LABELS);  // pipeline order (crm/opportunities/model.py)
const BOARD_PAGE = 1000;                          // the list route's largest page

const moneyFormat = new Intl.NumberFormat(undefined, { style: "currency", currency: "USD", maximumFractionDigits: 0 });
export const money = (value) => moneyFormat.format(Number(value) || 0);
/** What a card is worth: its commitment where set, else the expected amount. */
export const worth = (o) => (o.commitment_amount ?? o.expected_amount ?? 0);
const nameOf = (o) => o.contact_name || "Unnamed contact";
const dateTime = (iso) => (iso ? new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : "");

export function mount(root, ctx) {
  const view = new URLSearchParams(location.search).get("view") === "list" ? "list" : "board";
  const status = h("p.pipeline-status", { role: "status", "aria-live": "polite" });
  const toggle = h("nav.view-toggle", { "aria-label": "Pipeline view" },
    h("a", { href: ROUTES.pipeline, dataset: { link: "" }, "aria-current": view === "board" ? "page" : null }, "Board"),
    h("a", { href: `${ROUTES.pipeline}?view=list`, dataset: { link: "" }, "aria-current": view === "list" ? "page" : null }, "List"));
  const actions = h("div.page-actions", {}, toggle,
    h("a.button.primary", { href: `${ROUTES.opportunity}new`, dataset: { link: "" } }, "New opportunity"), status);
  const title = h("h1", { id: "page-title", tabindex: "-1" }, "Pipeline");
  const section = h("section.records-page.pipeline-page", { "aria-labelledby": "page-title" }, title, actions);
  root.replaceChildren(section);
  const stop = view === "list" ? listMode(section, ctx) : boardMode(section, status);
  title.focus({ preventScroll: true });
  return stop;
}

function listMode(section, { navigate }) {
  const chosen = new URLSearchParams(location.search).get("stage") || "";
  const stage = h("select", { id: "pipeline-stage-filter" }, h("option", { value: "" }, "All stages"),
    ...STAGES.map((s) => h("option", { value: s }, STAGE_LABELS[s])));
  stage.value = STAGES.includes(chosen) ? chosen : "";
  const list = listView({
    url: OPPORTUNITIES, label: "Opportunities", params: stage.value ? { stage: stage.value } : {},
    empty: "No opportunities match.", onOpen: (o) => navigate(`${ROUTES.opportunity}${encodeURIComponent(o.id)}`),
    columns: [
      { key: "contact_name", label: "Contact", render: nameOf },
      { key: "organization_name", label: "Organization" },
      { key: "fund_name", label: "Fund", sort: "fund_name" },
      { key: "stage", label: "Stage", sort: "stage", render: (o) => STAGE_LABELS[o.stage] || o.stage },
      { key: "expected_amount", label: "Expected", sort: "expected_amount", render: (o) => (o.expected_amount == null ? "" : money(o.expected_amount)) },
      { key: "commitment_amount", label: "Commitment", sort: "commitment_amount", render: (o) => (o.commitment_amount == null ? "" : money(o.commitment_amount)) },
      { key: "probability", label: "Probability", sort: "probability", render: (o) => (o.probability == null ? "" : `${o.probability}%`) },
      { key: "updated_at", label: "Updated", sort: "updated_at", render: (o) => h("time", { datetime: o.updated_at }, dateTime(o.updated_at)) },
    ],
  });
  stage.addEventListener("change", () => {
    const query = new URLSearchParams(location.search);
    if (stage.value) query.set("stage", stage.value); else query.delete("stage");
    query.delete("offset");
    history.replaceState(null, "", `${location.pathname}?${query}`);
    list.setParams(stage.value ? { stage: stage.value } : {});
  });
  section.append(h("div.list-filters", {}, h("label", { for: stage.id }, "Stage"), stage), list.element);
  return () => list.stop();
}

function boardMode(section, status) {
  let stopped = false;
  const cards = new Map();  // id → opportunity
  const columns = new Map(STAGES.map((stage) => [stage, column(stage)]));
  const board = h("div.board", { "aria-busy": "true" }, ...[...columns.values()].map((c) => c.element));
  section.append(board);

  function column(stage) {
    const count = h("span.stage-count");
    const sum = h("span.stage-sum");
    const list = h("ul.board-cards", { "aria-label": STAGE_LABELS[stage] });
    const element = h("section.board-column", { dataset: { stage }, "aria-labelledby": `stage-${stage}` },
      h("header.board-column-head", {}, h("h2", { id: `stage-${stage}` }, STAGE_LABELS[stage]), count, sum), list);
    element.addEventListener("dragover", (event) => {
      if (!event.dataTransfer.types.includes("text/plain")) return;
      event.preventDefault();
      event.dataTransfer.dropEffect = "move";
      element.classList.add("drop-target");
    });
    element.addEventListener("dragleave", (event) => {
      if (!element.contains(event.relatedTarget)) element.classList.remove("drop-target");
    });
    element.addEventListener("drop", (event) => {
      event.preventDefault();
      element.classList.remove("drop-target");
      const id = event.dataTransfer.getData("text/plain");
      if (cards.has(id)) move(id, stage);
    });
    return { element, list, count, sum };
  }

  function card(o) {
    const name = nameOf(o);
    const select = h("select.move-to", { "aria-label": `Move ${name} to` },
      ...STAGES.map((s) => h("option", { value: s }, s === o.stage ? `Move to… (${STAGE_LABELS[s]})` : STAGE_LABELS[s])));
    select.value = o.stage;
    select.addEventListener("change", () => move(o.id, select.value));
    const item = h("li.board-card", { draggable: "true", dataset: { id: o.id } },
      h("a.card-name", { href: `${ROUTES.opportunity}${encodeURIComponent(o.id)}`, dataset: { link: "" } }, name),
      o.organization_name ? h("div.card-org", {}, o.organization_name) : null,
      h("div.card-meta", {}, h("span.card-fund", {}, o.fund_name || "No fund"), h("span.card-amount", {}, money(worth(o)))),
      select);
    item.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", o.id);
      event.dataTransfer.effectAllowed = "move";
      item.classList.add("dragging");
    });
    item.addEventListener("dragend", () => item.classList.remove("dragging"));
    return item;
  }

  // A column draws its first CARDS_SHOWN cards and offers the rest on request: thousands of cards drawn
  // at once took half a second, and a board is read from the top. Counts and sums are always of all.
  const shown = new Map(STAGES.map((s) => [s, CARDS_SHOWN]));
  function draw() {
    const byStage = new Map(STAGES.map((s) => [s, []]));
    for (const o of cards.values()) byStage.get(o.stage)?.push(o);
    for (const [stage, found] of byStage) {
      const c = columns.get(stage);
      const total = found.reduce((sum, o) => sum + Number(worth(o)), 0);
      c.count.textContent = String(found.length);
      c.count.setAttribute("aria-label", `${found.length} ${found.length === 1 ? "opportunity" : "opportunities"}`);
      c.sum.textContent = money(total);
      const limit = shown.get(stage);
      const more = found.length - limit;
      c.list.replaceChildren(...(found.length ? found.slice(0, limit).map(card) : [h("li.board-empty", {}, "No opportunities")]),
        ...(more > 0 ? [h("li.board-more", {}, h("button", { type: "button", onclick: () => {
          shown.set(stage, limit + CARDS_SHOWN);
          redraw();
        } }, `Show ${Math.min(more, CARDS_SHOWN)} more of ${more}`))] : []));
    }
  }

  // Optimistic: the card moves at once; a refusal puts it back and says why. A card's moves are sent
  // one after another (quick keyboard moves must reach the server in order); only the card's latest
  // move decides where it ends up on screen.
  const sending = new Map();  // id → {chain, latest}
  function move(id, stage) {
    const o = cards.get(id);
    if (!o || o.stage === stage) return;
    const before = o.stage;
    o.stage = stage;
    redraw();
    status.classList.remove("error");
    status.textContent = `Moving ${nameOf(o)} to ${STAGE_LABELS[stage]}…`;
    const entry = sending.get(id) || { chain: Promise.resolve(), latest: 0 };
    const mine = ++entry.latest;
    sending.set(id, entry);
    entry.chain = entry.chain.then(async () => {
      try {
        const saved = await api("PATCH", `${OPPORTUNITIES}/${encodeURIComponent(id)}/stage`, { stage });
        if (stopped || mine !== entry.latest) return;
        Object.assign(o, saved);
        status.textContent = `Moved ${nameOf(o)} to ${STAGE_LABELS[stage]}.`;
      } catch (error) {
        if (stopped || mine !== entry.latest) return;
        o.stage = before;
        const why = error.status === 404 ? "it was deleted meanwhile (reload the board)" : error.message;
        status.textContent = `Could not move ${nameOf(o)} to ${STAGE_LABELS[stage]}: ${why}. It is back in ${STAGE_LABELS[before]}.`;
        status.classList.add("error");
      }
      redraw();
    });
  }

  // Drawing replaces the cards: the focused card's link or select (a keyboard move) gets the focus back.
  function redraw() {
    const active = document.activeElement;
    const id = board.contains(active) ? active.closest(".board-card")?.dataset.id : null;
    const part = active?.classList?.contains("move-to") ? "select" : "a";
    draw();
    if (id) board.querySelector(`.board-card[data-id="${CSS.escape(id)}"] ${part}`)?.focus();
  }

  (async () => {
    status.textContent = "Loading the pipeline…";
    try {
      for (let offset = 0; ; offset += BOARD_PAGE) {
        const page = await apiPage(`${OPPORTUNITIES}?sort=-updated_at&limit=${BOARD_PAGE}&offset=${offset}`);
        if (stopped) return;
        for (const o of page.data) cards.set(o.id, o);
        if (offset + page.data.length >= page.total || !page.data.length) break;
        status.textContent = `Loading the pipeline… ${cards.size.toLocaleString()} of ${page.total.toLocaleString()}`;
      }
      draw();
      status.textContent = cards.size ? `${cards.size.toLocaleString()} opportunities` : "No opportunities yet: add one with New opportunity.";
    } catch (error) {
      if (stopped) return;
      status.textContent = `Could not load the pipeline: ${error.message}`;
    }
    board.removeAttribute("aria-busy");
  })();
  return () => { stopped = true; };
}

const CARDS_SHOWN = 100;  // per column, until the reader asks for more

// The editor: `/opportunities/new` (optionally `?contact=<id>`) creates, `/opportunities/<id>` edits.
const FIELDS = (users) => [
  { name: "fund_name", label: "Fund" },
  { name: "stage", label: "Stage", type: "select", required: true, options: STAGES.map((s) => [s, STAGE_LABELS[s]]) },
  { name: "expected_amount", label: "Expected amount (USD)", type: "number" },
  { name: "commitment_amount", label: "Commitment amount (USD)", type: "number" },
  { name: "probability", label: "Probability (%)", type: "number" },
  { name: "owner_id", label: "Owner", type: "select", options: users.map((u) => [u.id, u.display_name || u.username]) },
  { name: "next_step", label: "Next step" },
  { name: "lost_reason", label: "Lost reason" },
  { name: "description", label: "Description", type: "textarea" },
];

export function mountEditor(root, { id, navigate }) {
  let stopped = false;
  let current = id === "new" ? null : id;  // the opportunity's id once it exists
  const title = h("h1", { id: "page-title", tabindex: "-1" }, current ? "Opportunity" : "New opportunity");
  const back = h("a.back-link", { href: ROUTES.pipeline, dataset: { link: "" } }, "← Back to the pipeline");
  const message = h("p.editor-status", { role: "status" });
  const body = h("div.opportunity-editor");
  root.replaceChildren(h("section.records-page.opportunity-page", { "aria-labelledby": "page-title" }, back, title, message, body));
  title.focus({ preventScroll: true });

  (async () => {
    message.textContent = "Loading…";
    try {
      const [users, record] = await Promise.all([
        api("GET", "/api/users?limit=1000").catch(() => []),
        current ? api("GET", `${OPPORTUNITIES}/${encodeURIComponent(current)}`) : null,
      ]);
      if (stopped) return;
      const contactId = record?.contact_id || new URLSearchParams(location.search).get("contact");
      const contact = contactId ? await api("GET", `/api/contacts/${encodeURIComponent(contactId)}`).catch(() => null) : null;
      if (stopped) return;
      message.textContent = "";
      const who = contact ? [contact.first_name, contact.last_name].filter(Boolean).join(" ") : "";
      document.title = `${record ? `${who || "Opportunity"}${record.fund_name ? `, ${record.fund_name}` : ""}` : "New opportunity"} · Venture CRM`;
      build(users.filter((u) => u.is_active || u.id === record?.owner_id), record, contact);
    } catch (error) {
      if (stopped) return;
      title.textContent = "Opportunity not found";
      message.textContent = error.status === 404 ? "This opportunity no longer exists." : `Could not load this opportunity: ${error.message}`;
    }
  })();

  function build(users, record, contact) {
    const picker = contactPicker(contact);
    const form = formFields(FIELDS(users), record || { stage: "prospect" });
    const save = h("button.primary", { type: "submit" }, record ? "Save" : "Create opportunity");
    const remove = h("button.danger", { type: "button", hidden: !record }, "Delete");
    const confirmBox = h("div.confirm-delete", { hidden: true, role: "group", "aria-label": "Confirm delete" },
      h("span", {}, "Delete this opportunity?"),
      h("button.danger", { type: "button", onclick: () => destroy() }, "Yes, delete"),
      h("button", { type: "button", onclick: () => { confirmBox.hidden = true; remove.focus(); } }, "Cancel"));
    remove.addEventListener("click", () => { confirmBox.hidden = false; confirmBox.querySelector("button").focus(); });
    const formEl = h("form.opportunity-form", { noValidate: true }, picker.element, form.element,
      h("div.page-actions.form-actions", {}, save, remove, confirmBox));
    formEl.addEventListener("submit", async (event) => {
      event.preventDefault();
      form.clearErrors();
      picker.error("");
      const data = form.read();
      if (!record) data.contact_id = picker.value();
      save.disabled = true;
      message.textContent = "Saving…";
      try {
        const saved = record
          ? await api("PATCH", `${OPPORTUNITIES}/${encodeURIComponent(current)}`, data)
          : await api("POST", OPPORTUNITIES, data);
        if (stopped) return;
        if (!record) {
          // Now it exists: this page is its editor (the URL says so, for a reload or a link).
          current = saved.id;
          record = saved;
          history.replaceState(null, "", `${ROUTES.opportunity}${encodeURIComponent(saved.id)}`);
          title.textContent = "Opportunity";
          save.textContent = "Save";
          remove.hidden = false;
          picker.lock();
          message.textContent = "Opportunity created.";
        } else {
          record = saved;
          message.textContent = `Saved at ${new Date().toLocaleTimeString()}.`;
        }
      } catch (error) {
        if (stopped) return;
        // The contact's words go beside the picker, the others beside their fields (widgets/form.js).
        const named = { ...(error.payload?.fields || {}) };
        const contactWords = named.contact_id;
        delete named.contact_id;
        if (Object.keys(named).length || !contactWords) form.showErrors({ message: error.message, payload: { ...(error.payload || {}), fields: named } });
        if (contactWords) picker.error(contactWords);
        message.textContent = `Not saved: ${error.message}`;
      } finally {
        save.disabled = false;
      }
    });

    async function destroy() {
      message.textContent = "Deleting…";
      try {
        await api("DELETE", `${OPPORTUNITIES}/${encodeURIComponent(current)}`);
        if (!stopped) navigate(ROUTES.pipeline);
      } catch (error) {
        if (!stopped) message.textContent = `Could not delete: ${error.message}`;
      }
    }
    body.replaceChildren(formEl);
    if (!record) picker.focus();
  }

  // The contact: fixed once the opportunity exists (a link to the contact); chosen by search when new.
  function contactPicker(contact) {
    let chosen = contact?.id || "";
    const error = h("span.field-error", { id: "contact-picker-error", role: "alert" });
    const shown = h("div.picked-contact");
    const search = h("input", { type: "search", id: "contact-picker", autocomplete: "off", placeholder: "Search contacts by name or email",
      "aria-describedby": error.id, "aria-controls": "contact-picker-results" });
    const results = h("ul.contact-results", { id: "contact-picker-results", "aria-label": "Matching contacts" });
    const label = h("label", { for: search.id }, "Contact", h("span.required", { "aria-hidden": "true" }, " *"));
    const element = h("div.contact-picker.form-row", { dataset: { field: "contact_id" } }, label, shown, search, results, error);
    let typing, asked = 0;
    const show = (c) => {
      const name = [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email || "Unnamed contact";
      shown.replaceChildren(h("a", { href: `${ROUTES.contact}${encodeURIComponent(c.id)}`, dataset: { link: "" } }, name),
        c.organization?.name || c.organization_name ? h("span.muted", {}, ` · ${c.organization?.name || c.organization_name}`) : null);
    };
    if (contact) show(contact);
    search.addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(find, 200);
    });
    async function find() {
      const q = search.value.trim();
      const mine = ++asked;
      if (!q) { results.replaceChildren(); return; }
      try {
        const found = await api("GET", `/api/contacts?q=${encodeURIComponent(q)}&limit=8`);
        if (stopped || mine !== asked) return;
        results.replaceChildren(...(found.length ? found.map((c) => h("li", {}, h("button.contact-choice", { type: "button", onclick: () => {
          chosen = c.id;
          show(c);
          search.value = "";
          results.replaceChildren();
          error.textContent = "";
          search.removeAttribute("aria-invalid");
        } }, [c.first_name, c.last_name].filter(Boolean).join(" ") || c.email, c.email ? h("span.muted", {}, ` ${c.email}`) : null,
        c.organization_name ? h("span.muted", {}, ` · ${c.organization_name}`) : null)))
          : [h("li.muted", {}, "No contact matches.")]));
      } catch (e) {
        if (!stopped && mine === asked) results.replaceChildren(h("li.error", {}, `Could not search: ${e.message}`));
      }
    }
    const picker = {
      element,
      value: () => chosen || null,
      error(words) {
        error.textContent = words;
        if (words) { search.setAttribute("aria-invalid", "true"); search.focus(); } else search.removeAttribute("aria-invalid");
      },
      lock() { search.hidden = true; results.replaceChildren(); },
      focus: () => search.focus(),
    };
    if (current && contact) picker.lock();
    return picker;
  }
  return () => { stopped = true; };
}
