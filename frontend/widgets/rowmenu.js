// A row's right-click menu (details, insert, log communication, link, archive) and the archived-rows list.
// The menu is Tabulator's; menu.js gives it ARIA roles and the keys every menu has (arrows, Home/End,
// a letter, Enter/Space, Escape or Tab back to the grid), and we open it from the keyboard on the
// active cell (the ContextMenu key or Shift+F10).
import { api, authHeaders, unauthorized } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { READ_ONLY, display } from "./columns.js";
import { menuKeys, nameMenu } from "./menu.js";

const LOG_TYPES = [["call", "Call"], ["email", "Email"], ["meeting", "Meeting"], ["note", "Note"], ["text", "Text message"]];
const ARCHIVED_PAGE = 20;
const TOAST_MS = 10000;
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

// -- helpers ------------------------------------------------------------------------

/** The column that names a row: Investor (key "name"), else the first one. */
function primaryColumn(grid) {
  const columns = grid.columns();
  return columns.find((c) => c.key === "name") || columns[0] || null;
}

function rowName(grid, data) {
  const column = primaryColumn(grid);
  return (column && display(column, data?.cells ? data.cells[column.id] : data?.[column.id])) || "Unnamed investor";
}

const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;

/** The investor count in the toolbar (grid.js keeps it on load; we keep it after rows leave or arrive). */
function recount(grid) {
  const el = grid.table?.element.closest(".grid-page")?.querySelector(".toolbar .count");
  if (el) el.textContent = plural(grid.table.getDataCount(), "investor");
}

/** Where keyboard focus goes back to in the grid: the row area Tabulator listens to for keys. */
function gridFocus(grid) {
  return grid.table?.element.querySelector(".tabulator-tableholder") || grid.table?.element || null;
}

function refocus(grid) {
  if (!document.activeElement || document.activeElement === document.body) gridFocus(grid)?.focus({ preventScroll: true });
}

function activeCell(grid) {
  const internal = grid.table?.modules?.selectRange?.getActiveCell?.();
  return internal ? internal.getComponent() : null;
}

/** The rows of the selected range when `row` is one of several in it; else just `row`. */
function targetRows(grid, row) {
  for (const range of grid.table?.getRanges?.() || []) {
    const rows = range.getRows();
    if (rows.length > 1 && rows.some((r) => r.getIndex() === row.getIndex())) {
      return rows.filter(Boolean).sort((a, b) => (a.getPosition() || 0) - (b.getPosition() || 0));
    }
  }
  return [row];
}

/** `date` (YYYY-MM-DD, the user's day) at the current local time, as ISO-8601 with the local offset. */
function localDateTime(date) {
  const now = new Date();
  const pad = (n) => String(Math.abs(Math.trunc(n))).padStart(2, "0");
  const offset = -now.getTimezoneOffset();
  const zone = `${offset >= 0 ? "+" : "-"}${pad(offset / 60)}:${pad(offset % 60)}`;
  return `${date}T${pad(now.getHours())}:${pad(now.getMinutes())}:${pad(now.getSeconds())}${zone}`;
}

function today() {
  const d = new Date();
  return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, "0")}-${String(d.getDate()).padStart(2, "0")}`;
}

// -- toasts -------------------------------------------------------------------------

let toastRegion = null;
// Toasts with an action and our dialogs act on one grid page: they close when its table is destroyed.
const bound = new Set();

/** A short message at the bottom of the window, with an optional action button (e.g. Undo). */
export function toast(message, { action, onAction, title, timeout = TOAST_MS } = {}) {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h("div.toast-region", { role: "status", "aria-live": "polite", "aria-label": "Notifications" });
    document.body.append(toastRegion);
  }
  const close = () => { clearTimeout(timer); el.remove(); bound.delete(close); };
  const text = h("span.toast-text", { title }, message);
  const el = h("div.toast", {}, text);
  if (action) {
    const button = h("button.toast-action", { type: "button" }, action);
    el.append(h("span.toast-sep", { "aria-hidden": "true" }, "·"));
    button.addEventListener("click", async () => { close(); await onAction?.(); });
    el.append(button);
  }
  el.append(h("button.toast-close", { type: "button", "aria-label": "Dismiss", title: "Dismiss", onclick: close }, "×"));
  let timer = setTimeout(close, timeout);
  // Never take the message away while someone is on its buttons.
  el.addEventListener("focusin", () => clearTimeout(timer));
  el.addEventListener("focusout", () => { clearTimeout(timer); timer = setTimeout(close, timeout); });
  el.addEventListener("mouseenter", () => clearTimeout(timer));
  el.addEventListener("mouseleave", () => { clearTimeout(timer); timer = setTimeout(close, timeout); });
  el.closeToast = close;
  while (toastRegion.children.length >= 3) toastRegion.firstElementChild.closeToast();
  toastRegion.append(el);
  if (action) bound.add(close);
  return { element: el, close };
}

// -- modal --------------------------------------------------------------------------

let modalCount = 0;

function modal(title, className, ...body) {
  const id = `row-modal-title-${++modalCount}`;
  const dialog = h(`dialog.modal.${className}`, { "aria-labelledby": id }, h("h2", { id }, title), ...body);
  document.body.append(dialog);
  const close = () => dialog.close();
  bound.add(close);
  dialog.addEventListener("close", () => { bound.delete(close); dialog.remove(); });
  dialog.showModal();
  return dialog;
}

// -- the row menu ---------------------------------------------------------------------

/** Tabulator context menu items for `row`. */
export function rowMenu(grid, row) {
  const rows = targetRows(grid, row);
  const sorted = Boolean(grid.view()?.config?.sorts?.length);
  const label = (text, extra = "") => h(`span.row-menu-label${extra}`, {}, text);
  const insertHint = sorted ? " (view is sorted)" : "";
  return [
    { label: label("Expand record"), action: () => grid.openRow(row.getIndex()) },
    { label: label(`Insert investor above${insertHint}`), disabled: sorted, action: () => insertRow(grid, row, true) },
    { label: label(`Insert investor below${insertHint}`), disabled: sorted, action: () => insertRow(grid, row, false) },
    { label: label("Log communication…"), action: () => logDialog(grid, row) },
    { label: label("Copy record link"), action: () => copyLink(grid, row.getIndex()) },
    { separator: true },
    { label: label(rows.length > 1 ? `Archive ${rows.length} investors` : "Archive investor", ".danger"), action: () => archiveRows(grid, rows) },
  ];
}

async function insertRow(grid, row, above) {
  const table = grid.table;
  const id = crypto.randomUUID();
  let after = row.getIndex();
  if (above) {
    const prev = row.getPrevRow();
    after = prev ? prev.getIndex() : "";
  }
  const sent = grid.send({ op: "add_row", row_id: id, after_row_id: after });
  const added = await table.addRow({ id }, above, row);
  recount(grid);
  await table.scrollToRow(added, "nearest", false).catch(() => {});
  const first = table.getColumns().find((c) => c.isVisible() && grid.column(c.getField()) && !READ_ONLY.has(grid.column(c.getField()).type));
  if (first) added.getCell(first)?.edit(true);
  const error = await sent;
  if (error) {
    grid.rowOf(id)?.delete();
    recount(grid);
    toast(`Could not add the investor: ${error.message}`);
  }
}

async function copyLink(grid, rowId) {
  const url = new URL(`/?row=${encodeURIComponent(rowId)}`, location.origin).href;
  let copied = false;
  try {
    if (navigator.clipboard?.writeText) { await navigator.clipboard.writeText(url); copied = true; }
  } catch { /* not allowed here (plain http, no permission): fall back below */ }
  if (!copied) {
    const scratch = h("textarea.clipboard-scratch", { readonly: true, "aria-hidden": "true" });
    scratch.value = url;
    document.body.append(scratch);
    scratch.select();
    try { copied = document.execCommand("copy"); } catch { copied = false; }
    scratch.remove();
  }
  refocus(grid);
  if (copied) { toast("Link copied"); return; }
  // Nothing could write the clipboard: show the link, selected, to copy by hand.
  const field = h("input.link-field", { type: "text", readonly: true, "aria-label": "Record link", value: url });
  const done = h("button.primary", { type: "button" }, "Done");
  const dialog = modal("Copy this link", "link-dialog", h("p", {}, "The browser did not allow copying. Select the link and copy it:"), field, h("div.actions", {}, done));
  done.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => refocus(grid));
  field.focus();
  field.select();
}

// -- archive and undo -------------------------------------------------------------------

async function archiveRows(grid, rows) {
  const table = grid.table;
  const column = table.getColumns().find((c) => c.isVisible() && grid.column(c.getField()));
  // What is needed to put each row back where it was: its data and the row above it.
  const saved = rows.map((r) => ({ id: r.getIndex(), data: r.getData(), prev: r.getPrevRow() ? r.getPrevRow().getIndex() : null }));
  const ids = new Set(saved.map((s) => s.id));
  let next = rows[rows.length - 1].getNextRow();
  while (next && ids.has(next.getIndex())) next = next.getNextRow();
  const name = rowName(grid, saved[0].data);
  for (const r of rows) r.delete();
  recount(grid);
  // Keep a cell selected where the rows were, so the keyboard goes on from there.
  const landing = next || table.getRows("active").at(-1);
  if (landing && column) table.addRange?.(landing.getCell(column));
  refocus(grid);
  const sent = grid.send(...saved.map((s) => ({ op: "archive_row", row_id: s.id })));
  const undo = toast(saved.length === 1 ? "Investor archived" : `${plural(saved.length, "investor")} archived`, {
    title: saved.length === 1 ? name : saved.map((s) => rowName(grid, s.data)).join(", "),
    action: "Undo",
    onAction: async () => {
      if (await sent) return;  // never archived: already put back below
      const error = await grid.send(...saved.map((s) => ({ op: "restore_row", row_id: s.id })));
      if (error) toast(`Could not restore: ${error.message}`);
      else await putBack(grid, saved);
    },
  });
  const error = await sent;
  if (error) {
    undo.close();
    await putBack(grid, saved);
    toast(`Could not archive: ${error.message}`);
  }
}

async function putBack(grid, saved) {
  const table = grid.table;
  for (const s of saved) {
    if (grid.rowOf(s.id)) continue;
    const prev = s.prev !== null ? grid.rowOf(s.prev) : null;
    if (prev) await table.addRow(s.data, false, prev);
    else if (s.prev === null) await table.addRow(s.data, true);
    else await table.addRow(s.data, false);
  }
  recount(grid);
  // The stored cells may have moved on meanwhile (formulas, others' edits): read them again.
  if (saved.length <= 20) await Promise.all(saved.map((s) => grid.refreshRow(s.id)));
  else await grid.reload();
}

// -- log a communication ------------------------------------------------------------

function rowContacts(grid, data) {
  return grid.columns().filter((c) => c.type === "contacts").flatMap((c) => (Array.isArray(data[c.id]) ? data[c.id] : []));
}

function logDialog(grid, row) {
  const rowId = row.getIndex();
  const data = row.getData();
  const people = rowContacts(grid, data);
  const contact = h("select", { name: "contact_id" }, people.map((p) =>
    h("option", { value: p.id }, p.email && p.name ? `${p.name} <${p.email}>` : p.name || p.email || "Unnamed contact")));
  const type = h("select", { name: "type" }, LOG_TYPES.map(([value, text]) => h("option", { value }, text)));
  const date = h("input", { name: "communication_date", type: "date", required: true, value: today() });
  const subject = h("input", { name: "subject", type: "text", autocomplete: "off", maxlength: 500 });
  const body = h("textarea", { name: "body", rows: 4 });
  const error = h("div.error", { role: "alert" });
  const cancel = h("button", { type: "button" }, "Cancel");
  const save = h("button.primary", { type: "submit", disabled: !people.length }, "Log communication");
  const contactRow = people.length
    ? h("label", {}, "Contact", contact)
    : h("p.log-no-contact", {}, "This investor has no contacts yet. Add one in its Contacts cell, then log the communication.");
  const form = h("form.log-form", {}, h("p.log-for", {}, rowName(grid, data)), contactRow,
    h("div.log-when", {}, h("label", {}, "Type", type), h("label", {}, "Date", date)),
    h("label", {}, "Subject", subject), h("label", {}, "Notes", body), error, h("div.actions", {}, cancel, save));
  const dialog = modal("Log communication", "log-dialog", form);
  dialog.dataset.rowId = rowId;
  cancel.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => refocus(grid));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (!people.length) return;
    if (!date.value) { error.textContent = "Pick the date it happened."; return; }
    save.disabled = true;
    error.textContent = "";
    try {
      await api("POST", "/api/fundraising/log-communication", {
        row_id: rowId, contact_id: contact.value || null, type: type.value,
        subject: subject.value.trim() || null, body: body.value.trim() || null,
        communication_date: localDateTime(date.value),
      });
      dialog.close();
      await grid.refreshRow(rowId);
      toast("Communication logged");
    } catch (e) {
      error.textContent = e.message;
      save.disabled = false;
    }
  });
  (people.length ? type : subject).focus();
}

// -- keyboard and ARIA for the menu -------------------------------------------------------

function hideMenu(grid) {
  grid.table?.modules?.menu?.rootPopup?.hide();
}

function enhanceMenu(grid) {
  const menu = grid.table?.modules?.menu?.rootPopup?.element;
  if (!menu || !menu.querySelector(".row-menu-label") || menu.getAttribute("role") === "menu") return;
  menuKeys(menu, { tabStays: true, close: () => { hideMenu(grid); gridFocus(grid)?.focus({ preventScroll: true }); } });
  nameMenu(menu, "Row actions");
}

/** Open the row menu at the active cell, as a right-click there would. */
async function openFromKeyboard(grid) {
  const cell = activeCell(grid);
  if (!cell || grid.table.modules?.menu?.rootPopup) return;
  const row = cell.getRow();
  await grid.table.scrollToRow(row, "nearest", false).catch(() => {});
  await new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)));
  const el = cell.getElement();
  if (!el?.isConnected) return;
  const box = el.getBoundingClientRect();
  el.dispatchEvent(new MouseEvent("contextmenu", { bubbles: true, cancelable: true, view: window, button: 2,
    clientX: Math.round(box.left + 8), clientY: Math.round(box.bottom) }));
}

function wireKeyboard(grid) {
  const table = grid.table;
  const el = table.element;
  let openedAt = 0;
  const editing = (event) => event.target.closest?.(".tabulator-editing, .cell-editor, .tabulator-menu");
  el.addEventListener("keydown", (event) => {
    if (editing(event)) return;
    if (event.key === "ContextMenu" || (event.key === "F10" && event.shiftKey && !event.ctrlKey && !event.metaKey && !event.altKey)) {
      event.preventDefault();
      event.stopPropagation();
      openedAt = performance.now();
      openFromKeyboard(grid);
    }
  });
  // Some systems still send the keyboard's own contextmenu event, aimed at the focused grid rather than a row.
  el.addEventListener("contextmenu", (event) => {
    if (!event.isTrusted || event.target.closest(".tabulator-row, .tabulator-header, .tabulator-editing")) return;
    if (!event.target.closest(".tabulator-tableholder")) return;
    event.preventDefault();
    event.stopPropagation();
    if (performance.now() - openedAt > 1000) openFromKeyboard(grid);
  }, true);
  table.on("menuOpened", (component) => { if (component && "_row" in component) enhanceMenu(grid); });  // `in`: a column component logs on unknown properties
  table.on("menuClosed", () => setTimeout(() => refocus(grid), 0));
  table.on("tableDestroyed", () => { for (const close of [...bound]) close(); });
}

// -- the archived rows list ----------------------------------------------------------------

async function fetchArchived(q, offset) {
  const params = new URLSearchParams({ archived: "1", limit: String(ARCHIVED_PAGE), offset: String(offset) });
  if (q) params.set("q", q);
  const response = await fetch(`${API.rows}?${params}`, { headers: authHeaders() });
  if (response.status === 401) { unauthorized(); throw new Error("signed out"); }
  if (!response.ok) throw new Error(`HTTP ${response.status}`);
  return response.json();
}

function archivedDialog(grid) {
  const search = h("input", { type: "search", placeholder: "Search archived investors", "aria-label": "Search archived investors", autocomplete: "off" });
  const summary = h("p.archived-summary", { "aria-live": "polite" });
  const list = h("ul.archived-list", { "aria-label": "Archived investors" });
  const empty = h("p.archived-empty", { hidden: true });
  const prev = h("button", { type: "button", "aria-label": "Previous page" }, "‹ Previous");
  const next = h("button", { type: "button", "aria-label": "Next page" }, "Next ›");
  const pager = h("div.archived-pages", { hidden: true }, prev, next);
  const error = h("div.error", { role: "alert" });
  const close = h("button", { type: "button" }, "Close");
  const dialog = modal("Archived investors", "archived-dialog", search, summary, list, empty, pager, error, h("div.actions", {}, close));
  close.addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => refocus(grid));

  const organization = grid.columns().find((c) => c.key === "organization");
  let offset = 0;
  let loading = 0;

  async function load() {
    const mine = ++loading;
    const q = search.value.trim();
    dialog.setAttribute("aria-busy", "true");
    let page;
    try {
      page = await fetchArchived(q, offset);
    } catch (e) {
      if (mine === loading) { error.textContent = `Could not load archived investors: ${e.message}`; dialog.removeAttribute("aria-busy"); }
      return;
    }
    if (mine !== loading) return;
    if (!page.data.length && offset > 0 && page.total > 0) {  // the last item of the last page was restored
      offset = Math.max(0, offset - ARCHIVED_PAGE);
      return load();
    }
    error.textContent = "";
    list.replaceChildren(...page.data.map(item));
    empty.hidden = page.data.length > 0;
    empty.textContent = q ? `No archived investors match “${q}”.` : "Nothing is archived. Investors you archive appear here, ready to restore.";
    summary.textContent = page.total ? (page.total > ARCHIVED_PAGE
      ? `${offset + 1}–${offset + page.data.length} of ${plural(page.total, "archived investor")}`
      : plural(page.total, "archived investor")) : "";
    pager.hidden = page.total <= ARCHIVED_PAGE;
    prev.disabled = offset === 0;
    next.disabled = offset + page.data.length >= page.total;
    dialog.removeAttribute("aria-busy");
  }

  function item(row) {
    const name = rowName(grid, row);
    const org = organization && display(organization, row.cells[organization.id]);
    const meta = h("span.archived-meta", {}, org || "");
    const restore = h("button", { type: "button", "aria-label": `Restore ${name}`, dataset: { restore: row.id } }, "Restore");
    const li = h("li.archived-item", { dataset: { rowId: row.id } }, h("div.archived-main", {}, h("span.archived-name", {}, name), meta), restore);
    if (row.archived_at) {
      const text = `Archived ${dateTimeFmt.format(new Date(row.archived_at))}${row.archived_by ? ` by ${row.archived_by}` : ""}`;
      meta.textContent = org ? `${org} · ${text}` : text;
    }
    restore.addEventListener("click", async () => {
      restore.disabled = true;
      restore.textContent = "Restoring…";
      try {
        const refused = await grid.send({ op: "restore_row", row_id: row.id });
        if (refused) throw refused;
        await grid.reload();
        recount(grid);
        summary.textContent = `Restored ${name}.`;
        const following = li.nextElementSibling?.querySelector("button") || li.previousElementSibling?.querySelector("button");
        await load();
        (following && following.isConnected ? following : list.querySelector("button") || search).focus();
      } catch (e) {
        error.textContent = `Could not restore ${name}: ${e.message}`;
        restore.disabled = false;
        restore.textContent = "Restore";
      }
    });
    return li;
  }

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => { offset = 0; load(); }, 250);
  });
  search.addEventListener("keydown", (event) => { if (event.key === "Enter") { event.preventDefault(); clearTimeout(searchTimer); offset = 0; load(); } });
  prev.addEventListener("click", () => { offset = Math.max(0, offset - ARCHIVED_PAGE); load(); });
  next.addEventListener("click", () => { offset += ARCHIVED_PAGE; load(); });
  search.focus();
  load();
  return dialog;
}

/** The toolbar's part: "Archived investors…" in the More menu. Also wires the row menu's keys and opens `/?row=<id>` links. */
export function rowTools(grid) {
  grid.on("tableBuilt", () => {
    wireKeyboard(grid);
    const linked = new URLSearchParams(location.search).get("row");
    if (linked) grid.openRow(linked);
  });
  return { more: [{ label: "Archived investors…", name: "archived", popup: "dialog", run: () => archivedDialog(grid) }] };
}
