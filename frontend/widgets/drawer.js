// The row detail drawer, as Airtable's expanded record: every field of one investor (editable
// with the grid's parse rules, saved as set_cell ops through the grid's queue), its contacts,
// commitments by fund and communications, a form to log a communication, comments with
// @mentions, and the row's history. Built with h() only: data is never parsed as HTML.
import { ApiError, api, authHeaders, unauthorized } from "../api.js";
import { API, ROUTES, SEL } from "../config.js";
import { h } from "../dom.js";
import { READ_ONLY, TYPE_LABELS, cellContent, display, isNumeric, parse } from "./columns.js";
import { contactsEditor } from "./contacts.js";

const HISTORY_PAGE = 25;
const REFRESH_DEBOUNCE_MS = 150;
const COMMENTS_POLL_MS = 30000;   // comments are not ops, so they do not come on the event stream
const USERS_TTL_MS = 60000;
const COMMUNICATION_TYPES = ["note", "call", "email", "meeting", "text"];
// The server's mention syntax (backend/crm/fundraising/comments.py); trailing dots are not part of a name.
const MENTION = /(?<![\w.])@([A-Za-z0-9._-]{1,64})/g;
const MENTION_AT_CARET = /(?:^|[^\w.])@([A-Za-z0-9._-]{0,64})$/;
const LOG_URL = "/api/fundraising/log-communication";

const rowUrl = (id) => `${API.rows}/${encodeURIComponent(id)}`;
const blank = (v) => v === null || v === undefined || v === "" || (Array.isArray(v) && v.length === 0);
const same = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);
const isError = (v) => Boolean(v) && typeof v === "object" && !Array.isArray(v) && "error" in v;
const when = (iso) => (iso ? display({ type: "created_time" }, iso) : "");
const day = (iso) => (iso ? display({ type: "date" }, iso) : "");
const clip = (text, n = 240) => (text.length > n ? `${text.slice(0, n)}…` : text);

let current = null;            // the open drawer (one at a time)
let nextId = 0;                // element ids unique within the page
const uid = (name) => `drawer-${name}-${++nextId}`;
const subscribed = new WeakSet();

let usersCache = null;         // {at, promise}: GET /api/users (any signed-in member or admin may call it)
function users() {
  if (!usersCache || Date.now() - usersCache.at > USERS_TTL_MS) {
    const promise = api("GET", "/api/users")
      .then((list) => list.filter((u) => u.is_active).sort((a, b) => a.username.localeCompare(b.username)))
      .catch(() => { usersCache = null; return []; });
    usersCache = { at: Date.now(), promise };
  }
  return usersCache.promise;
}

/** Open the drawer for row `rowId` (another open drawer is replaced). */
export function openDrawer(grid, rowId) {
  if (!rowId) return;
  if (!subscribed.has(grid)) {
    subscribed.add(grid);
    grid.on("rowsLoaded", () => { if (current?.grid === grid) current.scheduleRefresh(); });
  }
  let returnFocus = document.activeElement;
  if (current) {
    if (current.rowId === rowId && current.el.isConnected) { current.focus(); return; }
    returnFocus = current.returnFocus;
    current.close({ restoreFocus: false });
  }
  current = new Drawer(grid, rowId, returnFocus);
}

/** The grid calls this with the row ids its live events touched: the open drawer re-reads its row. */
export function refreshOpenDrawer(rowIds) {
  if (!current) return;
  if (!current.el.isConnected) { current.close({ restoreFocus: false }); return; }
  const ids = typeof rowIds === "string" ? [rowIds] : [...(rowIds || [])];
  if (ids.includes(current.rowId)) current.scheduleRefresh();
}

/** The text an input starts with (as the grid's editor: a percent as 12.5, not 0.125). */
function editText(column, value) {
  if (blank(value)) return "";
  if (column.type === "percent" && typeof value === "number") return String(Math.round(value * 1e10) / 1e8);
  if (isNumeric(column)) return String(value);
  if (column.type === "date") return String(value).slice(0, 10);
  return typeof value === "object" ? display(column, value) : String(value);
}

/** An option's coloured pill (the colour through the CSSOM, which the CSP allows). */
function pill(option) {
  const el = h("span.pill", {}, option.name);
  if (option.color) el.style.backgroundColor = option.color;
  return el;
}

/** Comment text as nodes: mentions of real users become highlighted spans (text only, never HTML). */
function commentBody(text, mentioned) {
  const names = new Set((mentioned || []).map((m) => m.username.toLowerCase()));
  const out = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    const name = match[1].replace(/\.+$/, "");
    if (!names.has(name.toLowerCase())) continue;
    out.push(text.slice(last, match.index));
    out.push(h("span.mention", { title: `Mentions ${name}` }, `@${name}`));
    last = match.index + 1 + name.length;
  }
  out.push(text.slice(last));
  return out.filter((part) => part !== "");
}

/** Typing "@" in `textarea` offers usernames in a listbox; returns the list element to place after it. */
function mentionPicker(textarea) {
  const list = h("ul.mention-list", { id: uid("mentions"), role: "listbox", "aria-label": "Mention someone", hidden: true });
  textarea.setAttribute("aria-autocomplete", "list");
  textarea.setAttribute("aria-controls", list.id);
  let matches = [];
  let active = 0;
  let start = -1;
  let asked = 0;

  const close = () => {
    list.hidden = true;
    matches = [];
    textarea.removeAttribute("aria-activedescendant");
  };
  const highlight = () => {
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    const li = list.children[active];
    if (li) { textarea.setAttribute("aria-activedescendant", li.id); li.scrollIntoView({ block: "nearest" }); }
  };
  const choose = (i) => {
    const user = matches[i];
    if (!user) return;
    const caret = textarea.selectionStart;
    const inserted = `@${user.username} `;
    textarea.value = textarea.value.slice(0, start) + inserted + textarea.value.slice(caret);
    const at = start + inserted.length;
    textarea.setSelectionRange(at, at);
    close();
    textarea.focus();
    textarea.dispatchEvent(new Event("input", { bubbles: true }));
  };
  const update = async () => {
    const mine = ++asked;
    if (textarea.selectionStart !== textarea.selectionEnd) return close();
    const before = textarea.value.slice(0, textarea.selectionStart);
    const m = MENTION_AT_CARET.exec(before);
    if (!m) return close();
    const q = m[1].toLowerCase();
    const everyone = await users();
    if (mine !== asked) return;
    matches = everyone.filter((u) => u.username.toLowerCase().startsWith(q) || (u.display_name || "").toLowerCase().includes(q)).slice(0, 8);
    if (!matches.length) return close();
    start = before.length - m[1].length - 1;
    active = 0;
    list.replaceChildren(...matches.map((u, i) => h("li", {
      id: `${list.id}-${i}`, role: "option", dataset: { username: u.username },
      onmousedown: (e) => { e.preventDefault(); choose(i); },
    }, h("span.mention-username", {}, `@${u.username}`),
      u.display_name && u.display_name !== u.username ? h("span.mention-name", {}, u.display_name) : null)));
    list.hidden = false;
    highlight();
  };
  textarea.addEventListener("input", update);
  textarea.addEventListener("click", update);
  textarea.addEventListener("blur", () => setTimeout(close, 100));
  textarea.addEventListener("keydown", (e) => {
    if (list.hidden || !matches.length) return;
    if (e.key === "ArrowDown" || e.key === "ArrowUp") {
      e.preventDefault();
      active = (active + (e.key === "ArrowDown" ? 1 : matches.length - 1)) % matches.length;
      highlight();
    } else if ((e.key === "Enter" && !e.ctrlKey && !e.metaKey) || e.key === "Tab") {
      e.preventDefault();
      choose(active);
    } else if (e.key === "Escape") {
      e.preventDefault();  // closes the list only, not the drawer
      close();
    }
  });
  return list;
}

class Drawer {
  constructor(grid, rowId, returnFocus) {
    this.grid = grid;
    this.rowId = rowId;
    this.returnFocus = returnFocus;
    this.detail = null;
    this.history = [];
    this.historyTotal = 0;
    this.comments = [];
    this.fields = new Map();      // column id → field control
    this.columnsKey = "";
    this.seq = 0;
    this.closed = false;
    this.timer = null;
    this.build();
    this.refresh();
    this.poll = setInterval(() => { if (document.visibilityState === "visible") this.loadComments(); }, COMMENTS_POLL_MS);
  }

  // -- skeleton ---------------------------------------------------------------------

  build() {
    this.title = h("h2.drawer-title", { id: uid("title"), tabindex: "-1" }, "Loading…");
    this.subtitle = h("p.drawer-sub");
    const closeButton = h("button.drawer-close", { type: "button", "aria-label": "Close details", title: "Close (Esc)", onclick: () => this.close() }, "×");
    this.banner = h("div.drawer-banner", { role: "status", hidden: true });
    this.fieldsEl = h("div.drawer-fields");
    this.contactsEl = h("div.drawer-contacts");
    this.commitmentsEl = h("div.drawer-commitments");
    this.communicationsEl = h("div.drawer-communications");
    this.commentsEl = h("ol.drawer-comments", { "aria-label": "Comments" });
    this.historyEl = h("ol.drawer-history", { "aria-label": "Changes, newest first" });
    this.moreButton = h("button.drawer-more", { type: "button", hidden: true, onclick: () => this.loadMoreHistory() }, "Load more");
    const section = (name, heading, ...children) => {
      const id = uid(name);
      return h("section.drawer-section", { "aria-labelledby": id, dataset: { section: name } }, h("h3", { id }, heading), ...children);
    };
    this.body = h("div.drawer-body", {},
      section("fields", "Fields", this.fieldsEl),
      section("contacts", "Contacts", this.contactsEl),
      section("commitments", "Commitments by fund", this.commitmentsEl),
      section("communications", "Communications", this.logForm(), this.communicationsEl),
      section("comments", "Comments", this.commentsEl, this.composer()),
      section("history", "History", this.historyEl, this.moreButton));
    this.el = h("aside.row-drawer", {
      role: "dialog", "aria-modal": "false", "aria-label": "Investor details", tabindex: "-1", dataset: { rowId: this.rowId },
    }, h("header.drawer-head", {}, h("div.drawer-heading", {}, this.title, this.subtitle), closeButton), this.banner, this.body);
    this.el.addEventListener("keydown", (e) => {
      if (e.key === "Escape" && !e.defaultPrevented && !e.isComposing) { e.preventDefault(); e.stopPropagation(); this.close(); }
    });
    const host = this.grid.table?.element?.closest(".grid-page") || document.body;
    host.append(this.el);
    this.focus();
  }

  focus() { this.title.focus({ preventScroll: true }); }

  close({ restoreFocus = true } = {}) {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.timer);
    clearInterval(this.poll);
    const hadFocus = this.el.contains(document.activeElement);
    this.el.remove();
    if (current === this) current = null;
    if (!restoreFocus || (!hadFocus && document.activeElement !== document.body)) return;
    const back = this.returnFocus && this.returnFocus !== document.body && this.returnFocus.isConnected
      ? this.returnFocus : this.grid.table?.element?.querySelector(".tabulator-tableholder") || document.querySelector(SEL.grid);
    back?.focus?.({ preventScroll: true });
  }

  scheduleRefresh() {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.refresh(), REFRESH_DEBOUNCE_MS);
  }

  // -- loading ----------------------------------------------------------------------

  async refresh() {
    const mine = ++this.seq;
    const limit = Math.min(1000, Math.max(HISTORY_PAGE, this.history.length));
    try {
      const [detail, history, comments] = await Promise.all([
        api("GET", rowUrl(this.rowId)),
        this.fetchHistory(limit, 0),
        api("GET", `${rowUrl(this.rowId)}/comments`),
      ]);
      if (mine !== this.seq || this.closed) return;
      this.detail = detail;
      this.history = history.data;
      this.historyTotal = history.total;
      this.renderAll();
      this.setComments(comments);
    } catch (error) {
      if (mine !== this.seq || this.closed) return;
      this.showBanner(error.status === 404 ? "This investor no longer exists." : `Could not load this investor: ${error.message}`, true);
    }
  }

  /** A page of the row's history with its total (api() gives only `data`). */
  async fetchHistory(limit, offset) {
    const response = await fetch(`${rowUrl(this.rowId)}/history?limit=${limit}&offset=${offset}`, { headers: authHeaders() });
    if (response.status === 401) { unauthorized(); throw new Error("signed out"); }
    const payload = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(response.status, payload);
    return payload;
  }

  async loadMoreHistory() {
    this.moreButton.disabled = true;
    try {
      const page = await this.fetchHistory(HISTORY_PAGE, this.history.length);
      if (this.closed) return;
      const seen = new Set(this.history.map((op) => op.seq));
      this.history.push(...page.data.filter((op) => !seen.has(op.seq)));
      this.historyTotal = page.total;
      this.renderHistory();
    } catch (error) {
      this.showBanner(`Could not load more history: ${error.message}`, true);
    } finally {
      this.moreButton.disabled = false;
    }
  }

  async loadComments() {
    try {
      const comments = await api("GET", `${rowUrl(this.rowId)}/comments`, undefined, { quiet: true });
      if (!this.closed) this.setComments(comments);
    } catch { /* the next refresh tries again */ }
  }

  showBanner(text, error = false) {
    this.banner.hidden = !text;
    this.banner.textContent = text || "";
    this.banner.classList.toggle("is-error", error);
  }

  // -- rendering --------------------------------------------------------------------

  columnsInGridOrder() {
    const all = this.grid.columns();
    const order = (this.grid.table?.getColumns?.() || []).map((c) => c.getField()).filter(Boolean);
    const rank = new Map(order.map((id, i) => [id, i]));
    return [...all].sort((a, b) => (rank.get(a.id) ?? 1e6 + all.indexOf(a)) - (rank.get(b.id) ?? 1e6 + all.indexOf(b)));
  }

  renderAll() {
    const d = this.detail;
    const nameColumn = this.grid.columns().find((c) => c.key === "name") || this.grid.columns()[0];
    const name = (nameColumn && d.cells[nameColumn.id]) || "Untitled investor";
    this.title.textContent = name;
    this.el.setAttribute("aria-label", `Investor details: ${name}`);
    this.subtitle.textContent = `Created ${when(d.created_at)} · Last modified ${when(d.updated_at)}`;
    users().then((list) => {
      const by = list.find((u) => u.id === d.updated_by);
      if (by && this.detail === d) this.subtitle.textContent = `Created ${when(d.created_at)} · Last modified ${when(d.updated_at)} by ${by.username}`;
    });
    this.showBanner(d.archived ? "This investor is archived: restore it to edit." : "", false);
    this.renderFields();
    this.renderContacts();
    this.renderCommitments();
    this.renderCommunications();
    this.syncLogContacts();
    this.renderHistory();
  }

  renderFields() {
    const columns = this.columnsInGridOrder();
    const key = JSON.stringify(columns.map((c) => [c.id, c.name, c.type, c.options, c.config, c.result]));
    const visible = new Map((this.grid.table?.getColumns?.() || []).map((c) => [c.getField(), c.isVisible()]));
    if (key !== this.columnsKey) {
      this.columnsKey = key;
      this.fields = new Map(columns.map((column) => [column.id, this.field(column, visible.get(column.id) === false)]));
      this.fieldsEl.replaceChildren(...[...this.fields.values()].map((f) => f.el));
    }
    for (const [id, field] of this.fields) field.set(this.detail.cells[id]);
  }

  /** One field: a label, a control for its type (or the read-only value) and a place for errors. */
  field(column, hiddenInView) {
    const id = uid("field");
    const errorEl = h("div.field-error", { id: `${id}-error`, "aria-live": "polite" });
    const inputs = [];             // the controls that get aria-invalid
    const readOnly = READ_ONLY.has(column.type);
    const typeName = TYPE_LABELS[column.type] || column.type[0].toUpperCase() + column.type.slice(1).replace(/_/g, " ");
    const typeLabel = typeName + (readOnly ? " · read-only" : "");
    const label = (forId) => h(forId ? "label.field-label" : "span.field-label", { id: `${id}-label`, for: forId },
      h("span.field-name", {}, column.name), h("span.field-type", {}, typeLabel), hiddenInView ? h("span.field-type", {}, " · hidden in this view") : null);
    const wrap = (control) => h("div.field", { dataset: { columnId: column.id, type: column.type } }, control, errorEl);
    const showError = (text) => {
      errorEl.textContent = text || "";
      for (const input of inputs) {
        if (text) { input.setAttribute("aria-invalid", "true"); input.setAttribute("aria-describedby", errorEl.id); }
        else input.removeAttribute("aria-invalid");
      }
    };
    const save = (value) => this.commit(column, value, showError);

    if (readOnly) {
      const value = h("div.field-value", { "aria-labelledby": `${id}-label` });
      const el = wrap([label(null), value]);
      return { el, set: (v) => {
        // Exactly what the grid's cell shows (its formatter: the result's format, a blank stays blank); an
        // error's message is said in words beside its code, which the grid keeps in the cell's tooltip.
        value.classList.toggle("is-error", isError(v));
        value.replaceChildren(cellContent(column, v), isError(v) ? h("span.error-why", {}, ` ${v.error.replace(/^#[A-Z0-9/!?]+:?\s*/, "")}`) : "");
      } };
    }

    switch (column.type) {
      case "contacts": {
        // The grid's own contacts dialog (widgets/contacts.js), driven through its editor interface.
        const list = h("div.field-value", { "aria-labelledby": `${id}-label` });
        let people = [];
        const edit = h("button", { type: "button", "aria-label": `Edit ${column.name}` }, "Edit");
        edit.addEventListener("click", () => {
          const open = contactsEditor(column);
          open({ getValue: () => people }, (rendered) => rendered(), (value) => { save(value); edit.focus(); }, () => edit.focus());
        });
        inputs.push(edit);
        return { el: wrap([label(null), h("div.field-people", {}, list, edit)]), set: (v) => {
          people = Array.isArray(v) ? v : [];
          list.replaceChildren(blank(v) ? h("span.empty", {}, "—") : display(column, v));
        } };
      }
      case "checkbox": {
        const input = h("input", { id, type: "checkbox" });
        input.addEventListener("change", () => save(input.checked));
        inputs.push(input);
        return { el: wrap([label(id), h("div.field-control", {}, input)]), set: (v) => { input.checked = Boolean(v); } };
      }
      case "single_select": {
        const select = h("select", { id });
        const options = (v) => {
          const names = column.options.map((o) => o.name);
          if (!blank(v) && !names.includes(v)) names.push(v);
          select.replaceChildren(h("option", { value: "" }, "—"), ...names.map((n) => h("option", { value: n }, n)));
          select.value = blank(v) ? "" : v;
        };
        select.addEventListener("change", () => save(select.value || null));
        inputs.push(select);
        return { el: wrap([label(id), select]), set: (v) => { if (document.activeElement !== select) options(v); } };
      }
      case "multi_select": {
        const boxes = column.options.map((o) => h("input", { type: "checkbox", value: o.name }));
        const group = h("fieldset.field-options", { "aria-labelledby": `${id}-label` },
          column.options.map((o, i) => h("label.option", {}, boxes[i], pill(o))));
        group.addEventListener("change", () => save(boxes.filter((b) => b.checked).map((b) => b.value)));
        inputs.push(...boxes);
        return { el: wrap([label(null), group]), set: (v) => {
          const on = new Set((Array.isArray(v) ? v : []).map((x) => String(x).toLowerCase()));
          for (const b of boxes) b.checked = on.has(b.value.toLowerCase());
        } };
      }
      case "date": {
        const input = h("input", { id, type: "date" });
        input.addEventListener("change", () => save(input.value || null));
        inputs.push(input);
        return { el: wrap([label(id), input]), set: (v) => { if (document.activeElement !== input) input.value = editText(column, v); } };
      }
      default:
        return this.textField(column, { id, label, wrap, inputs, showError, save });
    }
  }

  /** Text, long text, email, URL, phone and the number types: parsed as the grid parses typing. */
  textField(column, { id, label, wrap, inputs, showError, save }) {
    const multiline = column.type === "long_text";
    const inputmode = isNumeric(column) ? "decimal" : { email: "email", url: "url", phone: "tel" }[column.type];
    const input = h(multiline ? "textarea" : "input", { id, type: multiline ? undefined : "text", rows: multiline ? 4 : undefined, inputmode, autocomplete: "off", spellcheck: multiline });
    let server = null;
    let invalid = false;
    const formatted = () => (isNumeric(column) ? display(column, server) : editText(column, server));
    const dirty = () => input.value !== editText(column, server) && input.value !== formatted();
    const commit = () => {
      if (!dirty()) { if (!invalid) return; invalid = false; showError(""); return; }
      const parsed = parse(column, input.value);
      if (parsed.error) { invalid = true; showError(parsed.error); return; }
      invalid = false;
      save(parsed.value);
    };
    input.addEventListener("focus", () => {
      // A number shows formatted ("$2,000,000") until focused, then as typed ("2000000"), all selected.
      if (invalid || input.value === editText(column, server)) return;
      input.value = editText(column, server);
      input.select();
    });
    input.addEventListener("blur", () => { commit(); if (!invalid && !dirty()) input.value = formatted(); });
    input.addEventListener("input", () => { if (invalid) { invalid = false; showError(""); } });
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && (!multiline || e.ctrlKey || e.metaKey)) { e.preventDefault(); commit(); }
      else if (e.key === "Escape" && (dirty() || invalid)) {
        e.preventDefault();  // the first Escape puts the saved value back; the next closes the drawer
        invalid = false;
        showError("");
        input.value = editText(column, server);
      }
    });
    inputs.push(input);
    return { el: wrap([label(id), input]), set: (v) => {
      server = v;
      if (document.activeElement !== input && !invalid) input.value = formatted();
      else if (document.activeElement === input && !dirty()) input.value = editText(column, server);
    } };
  }

  /** Save one field as a set_cell op through the grid's queue; the server's refusal is shown under it. */
  async commit(column, value, showError) {
    if (!this.detail || same(this.detail.cells[column.id], value)) { showError(""); return; }
    this.detail.cells[column.id] = value;
    this.grid.rowOf(this.rowId)?.update({ [column.id]: value });
    const field = this.fields.get(column.id);
    field?.el.classList.add("is-saving");
    // A 422/423 (or a 409 without conflicting cells) is this op's refusal; a 409 with conflicting
    // cells goes through the grid's conflict dialog instead.
    const refusal = await this.grid.send({ op: "set_cell", row_id: this.rowId, column_id: column.id, value });
    field?.el.classList.remove("is-saving");
    showError(refusal ? refusal.message : "");
    if (this.closed) return;
    this.grid.refreshRow(this.rowId);
    await this.refresh();
  }

  renderContacts() {
    const people = this.detail.contacts || [];
    if (!people.length) { this.contactsEl.replaceChildren(h("p.empty", {}, "No contacts yet. Add them in the grid's Contacts column.")); return; }
    // By name and email, never an id: the name links to the classic contact's page (`/contacts/<id>`,
    // with `?row=` for the way back), the email is a mailto link.
    const contactUrl = (p) => `${ROUTES.contact}${encodeURIComponent(p.contact_id)}?row=${encodeURIComponent(this.rowId)}`;
    this.contactsEl.replaceChildren(h("ul.contact-list", {}, people.map((p) => {
      const name = p.name || p.email || "Unnamed";
      return h("li.contact", { dataset: { contactId: p.id } },
        h("div.contact-name", {},
          p.contact_id ? h("a.contact-open", { href: contactUrl(p), dataset: { link: "" }, title: `Open ${name} in the contacts` }, name) : name,
          p.title ? h("span.contact-title", {}, ` · ${p.title}`) : null),
        h("div.contact-lines", {},
          p.email ? h("a.contact-email", { href: `mailto:${p.email}` }, p.email) : null,
          p.phone ? h("a", { href: `tel:${p.phone.replace(/[^\d+]/g, "")}` }, p.phone) : null),
        p.contact_id ? null : h("div.contact-link.muted", {}, "Not in the CRM contacts yet"));
    })));
  }

  renderCommitments() {
    const list = this.detail.commitments || [];
    if (!list.length) { this.commitmentsEl.replaceChildren(h("p.empty", {}, "No commitments yet.")); return; }
    const money = (c, amount) => display(this.grid.column(c?.column_id) || { type: "fund", config: {} }, amount);
    const total = list.reduce((sum, c) => sum + (Number(c.amount) || 0), 0);
    this.commitmentsEl.replaceChildren(h("table.commitments", {},
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Fund"), h("th.num", { scope: "col" }, "Amount"))),
      h("tbody", {}, list.map((c) => h("tr", { dataset: { fundId: c.fund_id } }, h("th", { scope: "row" }, c.fund), h("td.num", {}, money(c, c.amount))))),
      h("tfoot", {}, h("tr", {}, h("th", { scope: "row" }, "Total"), h("td.num", { dataset: { total: String(total) } }, money(list[0], total))))));
  }

  renderCommunications() {
    const list = this.detail.communications || [];
    const names = new Map((this.detail.contacts || []).map((p) => [p.contact_id, p.name || p.email]));
    if (!list.length) { this.communicationsEl.replaceChildren(h("p.empty", {}, "No communications logged for these contacts.")); return; }
    this.communicationsEl.replaceChildren(h("ol.communication-list", {}, list.map((c) => h("li.communication", { dataset: { communicationId: c.id } },
      h("div.comm-meta", {}, h("time", { datetime: c.communication_date }, day(c.communication_date)),
        h("span.comm-type", {}, c.type), names.get(c.contact_id) ? h("span", {}, `with ${names.get(c.contact_id)}`) : null),
      c.subject ? h("div.comm-subject", {}, c.subject) : null,
      c.body ? h("p.comm-body", {}, c.body) : null))));
  }

  // -- log a communication ------------------------------------------------------------

  logForm() {
    const today = () => { const d = new Date(); return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`; };
    const type = h("select", { name: "type" }, COMMUNICATION_TYPES.map((t) => h("option", { value: t }, t[0].toUpperCase() + t.slice(1))));
    const date = h("input", { name: "date", type: "date", value: today(), required: true });
    this.logContact = h("select", { name: "contact" });
    const subject = h("input", { name: "subject", type: "text", autocomplete: "off", maxlength: "500" });
    const body = h("textarea", { name: "body", rows: 3 });
    const message = h("div.log-message", { role: "status" });
    const submit = h("button.primary", { type: "submit" }, "Log");
    type.value = "call";
    const form = h("form.log-form", { "aria-label": "Log communication", novalidate: true },
      h("div.log-row", {}, h("label", {}, "Type", type), h("label", {}, "Date", date), h("label", {}, "Contact", this.logContact)),
      h("label", {}, "Subject", subject), h("label", {}, "Body", body), h("div.log-actions", {}, message, submit));
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      message.classList.remove("is-error");
      if (!date.value) { message.textContent = "Pick a date."; message.classList.add("is-error"); return; }
      submit.disabled = true;
      message.textContent = "Logging…";
      try {
        const result = await api("POST", LOG_URL, {
          row_id: this.rowId, type: type.value, communication_date: date.value,
          contact_id: this.logContact.value || undefined, subject: subject.value.trim() || null, body: body.value.trim() || null,
        });
        subject.value = "";
        body.value = "";
        message.textContent = `Logged. Added to Notes: ${result.notes_line}`;
        this.grid.refreshRow(this.rowId);
        await this.refresh();
      } catch (error) {
        message.textContent = error.message;
        message.classList.add("is-error");
      } finally {
        submit.disabled = false;
      }
    });
    this.logDetails = h("details.log-details", {}, h("summary", {}, "Log communication"), form);
    return this.logDetails;
  }

  syncLogContacts() {
    const people = this.detail?.contacts || [];
    const chosen = this.logContact.value;
    this.logContact.replaceChildren(...people.map((p) => h("option", { value: p.id }, p.name || p.email || "Unnamed")));
    if (people.some((p) => p.id === chosen)) this.logContact.value = chosen;
    this.logContact.disabled = !people.length;
  }

  // -- comments ---------------------------------------------------------------------

  composer() {
    const text = h("textarea.comment-input", { rows: 3, "aria-label": "Add a comment", placeholder: "Comment… type @ to mention someone" });
    const message = h("div.comment-message", { role: "status" });
    const send = h("button.primary", { type: "submit" }, "Comment");
    const form = h("form.comment-form", { "aria-label": "New comment" }, h("div.mention-anchor", {}, text, mentionPicker(text)), h("div.comment-actions", {}, message, send));
    const submit = async () => {
      if (!text.value.trim()) return;
      send.disabled = true;
      message.textContent = "";
      message.classList.remove("is-error");
      try {
        const comment = await api("POST", `${rowUrl(this.rowId)}/comments`, { body: text.value });
        text.value = "";
        this.setComments([...this.comments.filter((c) => c.id !== comment.id), comment], { force: true });
      } catch (error) {
        message.textContent = error.message;
        message.classList.add("is-error");
      } finally {
        send.disabled = false;
      }
    };
    form.addEventListener("submit", (e) => { e.preventDefault(); submit(); });
    text.addEventListener("keydown", (e) => { if (e.key === "Enter" && (e.ctrlKey || e.metaKey) && !e.defaultPrevented) { e.preventDefault(); submit(); } });
    return form;
  }

  setComments(list, { force = false } = {}) {
    this.comments = list;
    // Do not pull a comment being edited (or asked about) out from under the user.
    if (!force && this.commentsEl.querySelector(".comment.is-editing, .comment.is-confirming")) return;
    if (!list.length) { this.commentsEl.replaceChildren(h("li.empty", {}, "No comments yet.")); return; }
    this.commentsEl.replaceChildren(...list.map((c) => this.commentItem(c)));
  }

  commentItem(comment) {
    const mine = comment.author_id === this.grid.me?.id;
    const edited = comment.updated_at && comment.updated_at !== comment.created_at;
    const body = h("div.comment-body", {}, commentBody(comment.body, comment.mentions));
    const actions = h("div.comment-tools");
    const li = h("li.comment", { dataset: { commentId: comment.id } },
      h("div.comment-meta", {}, h("strong", {}, comment.author), h("time", { datetime: comment.created_at }, when(comment.created_at)), edited ? h("span.muted", {}, "(edited)") : null),
      body, actions);
    const url = `${rowUrl(this.rowId)}/comments/${encodeURIComponent(comment.id)}`;
    const error = h("div.comment-message.is-error", { role: "alert" });
    const normal = () => {
      li.classList.remove("is-editing", "is-confirming");
      actions.replaceChildren(...(mine ? [
        h("button.link", { type: "button", onclick: edit, "aria-label": "Edit comment" }, "Edit"),
        h("button.link", { type: "button", onclick: confirm, "aria-label": "Delete comment" }, "Delete"),
      ] : []));
    };
    const edit = () => {
      li.classList.add("is-editing");
      const text = h("textarea.comment-input", { rows: 3, "aria-label": "Edit comment" });
      text.value = comment.body;
      const save = async () => {
        if (!text.value.trim()) { error.textContent = "A comment cannot be empty."; return; }
        try {
          const saved = await api("PATCH", url, { body: text.value });
          this.setComments(this.comments.map((c) => (c.id === saved.id ? saved : c)), { force: true });
        } catch (e) { error.textContent = e.message; }
      };
      const cancel = () => { body.replaceChildren(...commentBody(comment.body, comment.mentions)); normal(); };
      text.addEventListener("keydown", (e) => {
        if (e.defaultPrevented) return;
        if (e.key === "Enter" && (e.ctrlKey || e.metaKey)) { e.preventDefault(); save(); }
        else if (e.key === "Escape") { e.preventDefault(); cancel(); }
      });
      body.replaceChildren(h("div.mention-anchor", {}, text, mentionPicker(text)), error);
      actions.replaceChildren(h("button.primary", { type: "button", onclick: save }, "Save"), h("button", { type: "button", onclick: cancel }, "Cancel"));
      text.focus();
    };
    const confirm = () => {
      li.classList.add("is-confirming");
      const yes = h("button.danger", { type: "button", onclick: async () => {
        try {
          await api("DELETE", url);
          this.setComments(this.comments.filter((c) => c.id !== comment.id), { force: true });
          this.commentsEl.closest("section")?.querySelector(".comment-input")?.focus();
        } catch (e) { error.textContent = e.message; actions.append(error); }
      } }, "Delete");
      actions.replaceChildren(h("span", {}, "Delete this comment?"), yes, h("button", { type: "button", onclick: normal }, "Cancel"));
      yes.focus();
    };
    normal();
    return li;
  }

  // -- history ----------------------------------------------------------------------

  renderHistory() {
    if (!this.history.length) this.historyEl.replaceChildren(h("li.empty", {}, "No changes yet."));
    else this.historyEl.replaceChildren(...this.history.map((op) => this.historyItem(op)));
    this.moreButton.hidden = this.history.length >= this.historyTotal;
    this.moreButton.textContent = `Load more (${this.historyTotal - this.history.length} older)`;
  }

  historyItem(op) {
    const column = this.grid.column(op.column_id) || { name: op.column || "a field", type: "text", config: {} };
    const value = (v) => (blank(v) ? h("span.empty", {}, "(empty)") : clip(isError(v) ? `#ERROR ${v.error}` : display(column, v) || String(v)));
    const automation = op.actor_kind === "automation";
    const who = automation
      ? [h("span.badge.automation", {}, "Automation"), op.actor ? h("span.muted", {}, ` after ${op.actor}'s edit`) : null]
      : h("strong", {}, op.actor || (op.actor_kind === "system" ? "System" : "Someone"));
    let what;
    switch (op.kind) {
      case "set_cell":
        what = [h("span.h-column", {}, column.name || op.column), ": ", h("span.sr-only", {}, "from "), h("del.h-before", {}, value(op.before)),
          h("span.h-arrow", { "aria-hidden": "true" }, " → "), h("span.sr-only", {}, " to "), h("ins.h-after", {}, value(op.after))];
        break;
      case "add_row": what = "created this investor"; break;
      case "archive_row": what = "archived this investor"; break;
      case "restore_row": what = "restored this investor"; break;
      case "move_row": what = "moved this row"; break;
      default: what = op.kind.replace(/_/g, " ");
    }
    return h("li.history-item", { dataset: { kind: op.kind, actorKind: op.actor_kind || "user", columnId: op.column_id || "" } },
      h("div.h-meta", {}, who, h("time", { datetime: op.at }, when(op.at))), h("div.h-change", {}, what));
  }
}
