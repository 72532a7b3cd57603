// Grid column types → Tabulator column definitions: how each type shows, edits and parses.
// Formatters return DOM nodes, never HTML strings, so cell text cannot inject markup.
import { h } from "../dom.js";
import { contactsEditor, contactsText, parseContacts } from "./contacts.js";
import { EditModule } from "./tabulator.js";

export const READ_ONLY = new Set(["formula", "created_time", "last_modified_time", "last_modified_by", "relationship"]);
const NUMERIC = new Set(["number", "currency", "percent", "fund"]);
export const TYPE_LABELS = {
  text: "Single line text", long_text: "Long text", number: "Number", currency: "Currency", percent: "Percent",
  date: "Date", checkbox: "Checkbox", single_select: "Single select", multi_select: "Multiple select",
  email: "Email", url: "URL", phone: "Phone", fund: "Fund (commitments)", formula: "Formula",
  relationship: "Relationship",
};

const numberFmt = new Intl.NumberFormat(undefined, { maximumFractionDigits: 4 });
// One formatter per currency: building an Intl.NumberFormat costs far more than formatting with it,
// and a 10,000-row grid formats a money cell for every fund column of every row it draws.
const moneyFmts = new Map();
const moneyFmt = (currency) => {
  let fmt = moneyFmts.get(currency);
  if (!fmt) moneyFmts.set(currency, fmt = new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 0 }));
  return fmt;
};
const centsFmts = new Map();
const centsFmt = (currency) => {
  let fmt = centsFmts.get(currency);
  if (!fmt) centsFmts.set(currency, fmt = new Intl.NumberFormat(undefined, { style: "currency", currency, maximumFractionDigits: 2 }));
  return fmt;
};
const dateFmt = new Intl.DateTimeFormat(undefined, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" });
const dateTimeFmt = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

const blank = (v) => v === null || v === undefined || v === "";

/**
 * How a formula column's result shows: its `result.format` (the column's own, else the server's default
 * from the fields it reads: a sum of currency fields is currency), as the type of that name; a date
 * with a time shows the time too. Text, yes/no and lists show as they are.
 */
export const FORMULA_FORMATS = { number: "Number", currency: "Currency", percent: "Percent", date: "Date" };
function formulaShown(column, value) {
  const format = column.result?.format;
  if (typeof value === "number" && format === "currency" && !Number.isInteger(value)) {
    return centsFmt(column.result.currency || "USD").format(value);  // a computed amount keeps its cents
  }
  if (typeof value === "number" && ["number", "currency", "percent"].includes(format)) {
    return display({ type: format, config: { currency: column.result.currency || "USD" } }, value);
  }
  if (typeof value === "string" && format === "date" && /^\d{4}-\d{2}-\d{2}/.test(value)) {
    return display({ type: value.length > 10 ? "created_time" : "date" }, value);
  }
  if (typeof value === "number") return numberFmt.format(value);
  if (Array.isArray(value)) return value.map((v) => (v === null || v === undefined ? "" : String(v))).join(", ");
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** A formula error's short form, as a spreadsheet shows it: "#DIV/0" of "#DIV/0: division by zero". */
export const errorCode = (message) => (/^#[A-Z0-9/!?]+/.exec(String(message))?.[0] || "#ERROR");

/**
 * A Relationship cell ({level 0-4, last_contact, who}, computed from mail and logged calls by the
 * server): four dots, filled to the level, the last contact and the strongest team member, as
 * "●●●○ 2026-11-30 · Alice"; its words for a screen reader. Blank when no contact is known.
 */
export const MAX_LEVEL = 4;
const levelDots = (level) => "●".repeat(level) + "○".repeat(MAX_LEVEL - level);
export function relationshipText(value) {
  if (!value || typeof value !== "object") return "";
  const level = Math.max(0, Math.min(MAX_LEVEL, Number(value.level) || 0));
  return [levelDots(level), value.last_contact, value.who && `· ${value.who}`].filter(Boolean).join(" ");
}
function relationshipWords(value) {
  const level = Math.max(0, Math.min(MAX_LEVEL, Number(value.level) || 0));
  const parts = [`Relationship level ${level} of ${MAX_LEVEL}`];
  if (value.last_contact) parts.push(`last contact ${value.last_contact}`);
  if (value.who) parts.push(`strongest connection ${value.who}`);
  return parts.join(", ");
}

/** The text a cell shows (also used for search, CSV and the editor's starting value). */
export function display(column, value) {
  if (blank(value)) return "";
  if (value && typeof value === "object" && "error" in value) return String(value.error);
  switch (column.type) {
    case "formula": return formulaShown(column, value);
    case "relationship": return relationshipText(value);
    case "number": return typeof value === "number" ? numberFmt.format(value) : String(value);
    case "currency": case "fund": return typeof value === "number" ? moneyFmt(column.config?.currency || "USD").format(value) : String(value);
    case "percent": return typeof value === "number" ? `${numberFmt.format(value * 100)}%` : String(value);
    case "date": return /^\d{4}-\d{2}-\d{2}/.test(value) ? dateFmt.format(new Date(value.slice(0, 10) + "T00:00:00Z")) : String(value);
    case "created_time": case "last_modified_time": return dateTimeFmt.format(new Date(value));
    case "checkbox": return value ? "checked" : "";
    case "multi_select": return Array.isArray(value) ? value.join(", ") : String(value);
    case "contacts": return Array.isArray(value) ? value.map((c) => c.name || c.email).filter(Boolean).join(", ") : "";
    default: return typeof value === "object" ? JSON.stringify(value) : String(value);
  }
}

/** Text typed or pasted → the value the API takes for this column, or {error}. */
export function parse(column, text) {
  if (text === null || text === undefined) return { value: null };
  if (typeof text !== "string") return { value: text };
  const s = text.trim();
  if (s === "") return { value: null };
  switch (column.type) {
    // Number, currency and fund text ("$1.5M", "500k", "(1,000)") is read by the server, with the
    // parser the importer uses (backend/crm/amounts.py): one reader for both. Its answer replaces
    // the text in the cell; text it cannot read comes back as an unfit value, said beside the cell.
    case "number": case "currency": case "fund": return { value: s };
    case "percent": {
      const n = Number(s.replace(/[,\s%]/g, "").replace(/^\((.*)\)$/, "-$1"));
      if (!Number.isFinite(n)) return { error: "not a number" };
      return { value: n / 100 };
    }
    case "checkbox": return { value: /^(true|yes|y|1|x|checked|✓)$/i.test(s) };
    case "date": {
      if (/^\d{4}-\d{2}-\d{2}/.test(s)) return { value: s.slice(0, 10) };
      const d = new Date(s);
      return Number.isNaN(d.getTime()) ? { error: "not a date" } : { value: d.toISOString().slice(0, 10) };
    }
    case "multi_select": return { value: s.split(",").map((x) => x.trim()).filter(Boolean) };
    case "contacts": return { value: parseContacts(s) };
    default: return { value: text };
  }
}

/** The text an editor starts with. */
function editText(column, value) {
  if (blank(value)) return "";
  if (column.type === "percent" && typeof value === "number") return String(Math.round(value * 1e10) / 1e8);
  if (NUMERIC.has(column.type)) return String(value);
  return typeof value === "object" ? display(column, value) : String(value);
}

// After Enter or Tab commits an editor, the grid moves the selection ("down", "up", "right", "left"),
// at once: the next key typed may already be on its way.
let moved = () => {};
export const onEditorMove = (fn) => { moved = fn; };

// A key typed on a selected cell opens its editor with that key as the text (as in Airtable).
let seed = null;
export const seedEditor = (key) => { seed = key; };

function inputEditor(column, multiline = false) {
  return (cell, onRendered, success, cancel) => {
    const input = h(multiline ? "textarea.cell-editor" : "input.cell-editor", { type: multiline ? undefined : "text", "aria-label": column.name });
    input.value = seed ?? editText(column, cell.getValue());
    const seeded = seed !== null;
    seed = null;
    let done = false;
    const commit = () => {
      if (done) return;
      const parsed = parse(column, input.value);
      if (parsed.error) {
        input.classList.add("invalid");
        input.title = parsed.error;
        return false;
      }
      done = true;
      success(parsed.value);
      return true;
    };
    // Deferred: a blur can come from the grid removing the cell mid-render, and
    // changing the DOM inside that removal throws.
    input.addEventListener("blur", () => setTimeout(() => { if (!done && commit() === false) { done = true; cancel(); } }, 0));
    // Enter commits (and the grid moves down, Shift+Enter up); Tab commits (the grid moves right,
    // Shift+Tab left), as in Sheets and Airtable. The grid does the moving (pages/grid.js).
    input.addEventListener("keydown", (e) => {
      if (e.key === "Enter" && !e.isComposing && !(multiline && e.shiftKey)) { e.preventDefault(); e.stopPropagation(); if (commit()) moved(e.shiftKey ? "up" : "down"); }
      else if (e.key === "Escape") { e.preventDefault(); e.stopPropagation(); done = true; cancel(); }
      else if (e.key === "Tab") { e.preventDefault(); e.stopPropagation(); if (commit()) moved(e.shiftKey ? "left" : "right"); }
    });
    onRendered(() => {
      input.focus({ preventScroll: true });
      if (seeded) input.setSelectionRange(input.value.length, input.value.length);
      else input.select();
    });
    return input;
  };
}

/**
 * Tabulator's own list (select) and date editors, with Enter and Tab as ours have them: the editor
 * commits in its own key handler (the list takes its highlighted option), then the grid moves.
 * Tab would otherwise open the next cell's editor, and the move happens here, at once, rather than
 * after polling for the editor to close.
 */
function tabulatorEditor(name) {
  return function editWithMoves(cell, onRendered, success, cancel, params) {
    const edit = this;  // Tabulator calls an editor with its edit module as `this`
    const input = EditModule.editors[name].call(edit, cell, onRendered, success, cancel, params);
    const original = input.value;
    // Registered after the editor's own listener, so it runs after the editor has handled the key.
    input.addEventListener("keydown", (e) => {
      if (e.isComposing) return;
      if (e.key === "Enter" && !edit.currentCell) { moved(e.shiftKey ? "up" : "down"); return; }
      if (e.key !== "Tab") return;
      e.preventDefault(); e.stopPropagation();  // not Tabulator's Tab, which opens the next editor
      if (edit.currentCell) input.blur();  // both editors commit on blur
      // The blur commits only when the input held the focus and (the list) its popup was showing.
      if (edit.currentCell && name === "date") { if (input.value !== original) success(input.value); else cancel(); }
      else if (edit.currentCell) { const value = listValue(input.value, params); if (value === undefined) cancel(); else success(value); }
      moved(e.shiftKey ? "left" : "right");  // the grid stays put if the editor is still open
    });
    return input;
  };
}

/** What a list editor's text stands for (Tabulator writes the chosen options' names, joined by
 * commas), or undefined when it names no option. */
function listValue(text, { values, multiselect }) {
  if (text === "") return multiselect ? [] : null;
  const names = multiselect ? text.split(",") : [text];
  if (!names.every((name) => values.includes(name))) return undefined;
  return multiselect ? names : text;
}

function pill(option, fallback) {
  const el = h("span.pill", {}, option?.name ?? fallback);
  if (option?.color) el.style.backgroundColor = option.color;  // CSSOM, allowed under style-src 'self'
  return el;
}

function formatter(column) {
  return (cell) => cellContent(column, cell.getValue());
}

/** What a cell shows, as a DOM node (or ""): the grid's formatter, and the row panel's for read-only fields. */
export function cellContent(column, value) {
    if (value && typeof value === "object" && !Array.isArray(value) && "error" in value) {
      return h("span.cell-error", { title: value.error }, errorCode(value.error));
    }
    switch (column.type) {
      case "relationship":
        if (!value || typeof value !== "object") return "";
        return h("span.warmth", { role: "img", "aria-label": relationshipWords(value), dataset: { level: String(value.level ?? 0) } },
          relationshipText(value));
      case "checkbox":
        return h("span.check", { role: "img", "aria-label": value ? "checked" : "not checked", dataset: { on: value ? "1" : "0" } }, value ? "✓" : "");
      case "single_select": {
        if (blank(value)) return "";
        return pill(column.options.find((o) => o.name === value), value);
      }
      case "multi_select": {
        if (!Array.isArray(value)) return "";
        return h("span.pills", {}, value.map((v) => pill(column.options.find((o) => o.name === v), v)));
      }
      case "url":
        return blank(value) ? "" : h("a", { href: /^https?:\/\//i.test(value) ? value : `https://${value}`, target: "_blank", rel: "noopener noreferrer" }, value);
      default:
        return document.createTextNode(display(column, value));
    }
}

function editor(column) {
  if (READ_ONLY.has(column.type)) return undefined;
  switch (column.type) {
    case "long_text": return inputEditor(column, true);
    case "contacts": return contactsEditor(column);
    case "date": return tabulatorEditor("date");
    case "checkbox": return undefined;  // no editor: a click anywhere in the cell or Space toggles it (pages/grid.js)
    case "single_select": case "multi_select":
      return tabulatorEditor("list");
    default: return inputEditor(column);
  }
}

function editorParams(column) {
  if (column.type === "single_select" || column.type === "multi_select") {
    return { values: column.options.map((o) => o.name), clearable: true, multiselect: column.type === "multi_select",
             autocomplete: true, listOnEmpty: true, freetext: false };
  }
  return {};
}

/** Tabulator column definition for a grid column under a view's layout. */
export function definition(column, { width, frozen, hidden, editable }) {
  return {
    title: column.name,
    field: column.id,
    width: width || (column.type === "checkbox" ? 110 : column.type === "long_text" ? 260 : NUMERIC.has(column.type) ? 140 : column.type === "contacts" || column.type === "relationship" ? 200 : 170),
    minWidth: 60,
    resizable: "header",  // true would also put a resize handle in every cell Tabulator draws
    frozen,
    visible: !hidden,
    headerSort: false,
    hozAlign: NUMERIC.has(column.type) || column.type === "formula" && (column.result?.type === "number" || column.config?.result_type === "number") ? "right" : "left",
    cssClass: `t-${column.type}`,
    formatter: formatter(column),
    editor: editor(column),
    editorParams: editorParams(column),
    editable,
    accessorClipboard: column.type === "contacts" ? (value) => contactsText(value) : undefined,
    headerTooltip: `${column.name} · ${TYPE_LABELS[column.type] || column.type.replace(/_/g, " ")}`,
  };
}

export const isNumeric = (column) => NUMERIC.has(column.type);
