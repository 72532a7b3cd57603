// The formula editor of the column dialog: a textarea that is a combobox (WAI-ARIA 1.2, list
// autocomplete). "{" opens the fields by name, a word offers the functions that start with it (each
// with its one line) and the fields; typing filters, ArrowUp/ArrowDown pick, Enter or Tab insert
// ("{Fund I}", "ROUND("), Escape closes the list (not the dialog). The server checks the formula as
// it is typed; an error is said in words and its span is marked in the editor (a mirror behind the
// transparent textarea holds the same text with the span in a <mark>). Everything is built with h():
// field names are never parsed as HTML.
import { api } from "../api.js";
import { h } from "../dom.js";
import { FORMULA_FORMATS, TYPE_LABELS } from "./columns.js";

const VOCABULARY = "/api/fundraising/formula/vocabulary";
const CHECK = "/api/fundraising/formula/check";
const CHECK_DELAY_MS = 250;

/** The suggestions for the text before the caret: {from, to, items} or null (nothing to offer). */
function suggestionsAt(text, caret, vocabulary) {
  const before = text.slice(0, caret);
  const open = before.lastIndexOf("{");
  if (open >= 0 && !before.slice(open).includes("}") && !inQuotes(before.slice(0, open))) {
    const query = before.slice(open + 1).toLowerCase();
    const close = text.indexOf("}", caret);
    const nextOpen = text.indexOf("{", caret);
    const to = close >= 0 && (nextOpen < 0 || close < nextOpen) && !text.slice(caret, close).includes("\n") ? close + 1 : caret;
    return { from: open, to, items: rank(vocabulary.fields, (f) => f.name, query).map((f) => fieldItem(f)) };
  }
  const word = /(^|[^A-Za-z0-9_.])([A-Za-z_][A-Za-z0-9_]*)$/.exec(before);
  if (!word || inQuotes(before)) return null;
  const query = word[2].toLowerCase();
  const from = caret - word[2].length;
  const functions = vocabulary.functions.filter((f) => f.name.toLowerCase().startsWith(query)).map((f) => ({
    kind: "function", label: f.name, detail: f.doc, usage: f.usage, insert: `${f.name}(`, caretBack: 0,
  }));
  const fields = vocabulary.fields.filter((f) => f.name.toLowerCase().startsWith(query)).map((f) => fieldItem(f));
  const items = [...functions, ...fields];
  // A whole function name already typed, and followed by "(": nothing more to offer.
  if (items.length === 1 && items[0].kind === "function" && items[0].label.toLowerCase() === query && text[caret] === "(") return null;
  return items.length ? { from, to: caret, items } : null;
}

const fieldItem = (f) => ({ kind: "field", label: f.name, detail: TYPE_LABELS[f.type] || f.type.replace(/_/g, " "), insert: `{${f.name}}` });

/** Items whose name contains `query`, those starting with it first. */
function rank(list, nameOf, query) {
  const starts = [], contains = [];
  for (const item of list) {
    const name = nameOf(item).toLowerCase();
    if (name.startsWith(query)) starts.push(item);
    else if (name.includes(query)) contains.push(item);
  }
  return [...starts, ...contains];
}

/** Whether text ends inside a quoted string (a rough count: escaped quotes are skipped). */
function inQuotes(text) {
  let quote = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quote && c === "\\") { i++; continue; }
    if (quote ? c === quote : c === "\"" || c === "'") quote = quote ? null : c;
  }
  return quote !== null;
}

/**
 * The formula field: {el, input, check(): Promise (the last answer), answer(), formatControl, format()}.
 * `column`: the column being edited (or null); `uid`: a prefix for element ids; `onAnswer(answer)`:
 * called with each check's answer (the dialog shows the default format it names).
 */
export function formulaEditor({ column, uid, onAnswer = () => {} }) {
  const listId = `${uid}-formula-list`;
  const input = h("textarea.formula-input", {
    id: `${uid}-formula`, name: "formula", rows: 3, spellcheck: false, autocomplete: "off",
    placeholder: "e.g. {Fund III} + {Fund IV}   ({ lists the fields)", role: "combobox", "aria-autocomplete": "list",
    "aria-expanded": "false", "aria-controls": listId, "aria-describedby": `${uid}-check`,
  });
  input.value = column?.formula || "";
  const mirror = h("div.formula-mirror", { "aria-hidden": "true" });
  const list = h("ul.formula-suggestions", { id: listId, role: "listbox", "aria-label": "Fields and functions", hidden: true });
  const status = h("div.formula-check", { id: `${uid}-check`, "aria-live": "polite" });
  let vocabulary = { fields: [], functions: [] };
  const functionList = h("dl.formula-functions-list");
  const reference = h("details.formula-functions", {}, h("summary", {}, "Functions"), functionList);
  const el = h("div.row-formula", {},
    h("div.field", {}, h("label", { for: input.id }, "Formula"), h("div.formula-editor", {}, mirror, input), list),
    status, reference);

  api("GET", VOCABULARY).then((found) => {
    vocabulary = { fields: found.fields.filter((f) => f.name !== column?.name), functions: found.functions };
    functionList.replaceChildren(...found.functions.flatMap((f) => [h("dt", {}, h("code", {}, f.usage)), h("dd", {}, f.doc)]));
    if (document.activeElement === input) suggest();
  }).catch(() => {});  // without it the editor still works, it only offers nothing

  // -- the list -------------------------------------------------------------------------------
  let open = null;      // {from, to, items}
  let active = 0;
  let quiet = false;    // just inserted: do not reopen until the next keystroke
  const close = () => {
    open = null;
    list.hidden = true;
    list.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  };
  const highlight = (index) => {
    active = (index + open.items.length) % open.items.length;
    [...list.children].forEach((li, i) => li.setAttribute("aria-selected", String(i === active)));
    const li = list.children[active];
    input.setAttribute("aria-activedescendant", li.id);
    li.scrollIntoView({ block: "nearest" });
  };
  const suggest = () => {
    if (quiet || input.selectionStart !== input.selectionEnd) { close(); return; }
    const found = suggestionsAt(input.value, input.selectionStart, vocabulary);
    if (!found) { close(); return; }
    const same = open && open.items.length === found.items.length && open.items.every((x, i) => x.insert === found.items[i].insert);
    open = found;
    if (!same) {
      list.replaceChildren(...found.items.map((item, i) => {
        const li = h("li.formula-option", { id: `${listId}-${i}`, role: "option", "aria-selected": "false", dataset: { kind: item.kind } },
          h("span.formula-option-name", {}, item.kind === "field" ? `{${item.label}}` : item.usage),
          h("span.formula-option-detail", {}, item.detail));
        li.addEventListener("mousedown", (e) => e.preventDefault());  // keep the focus in the editor
        li.addEventListener("click", () => choose(i));
        return li;
      }));
      active = 0;
    }
    list.hidden = false;
    input.setAttribute("aria-expanded", "true");
    highlight(same ? Math.min(active, found.items.length - 1) : 0);
  };
  const choose = (index) => {
    const item = open.items[index];
    const { from, to } = open;
    let text = item.insert;
    let after = to;
    if (item.kind === "function" && input.value[to] === "(") { text = item.label; after = to; }
    input.setRangeText(text, from, after, "end");
    if (item.kind === "function" && input.value[input.selectionStart] === "(") input.setSelectionRange(input.selectionStart + 1, input.selectionStart + 1);
    close();
    quiet = true;
    input.focus();
    changed();
  };

  input.addEventListener("keydown", (event) => {
    if (event.isComposing) return;
    quiet = false;
    if (!open) return;
    const keys = { ArrowDown: () => highlight(active + 1), ArrowUp: () => highlight(active - 1),
      Enter: () => choose(active), Tab: () => choose(active), Escape: close };
    if (!(event.key in keys) || event.altKey || event.ctrlKey || event.metaKey || (event.key === "Tab" && event.shiftKey)) return;
    event.preventDefault();
    event.stopPropagation();  // Escape closes the list, not the dialog; Enter does not save it
    keys[event.key]();
  });
  input.addEventListener("input", () => { quiet = false; suggest(); changed(); });
  input.addEventListener("click", () => { quiet = false; suggest(); });
  input.addEventListener("keyup", (event) => { if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(event.key)) suggest(); });
  input.addEventListener("blur", () => setTimeout(() => { if (document.activeElement !== input) close(); }, 0));
  input.addEventListener("scroll", () => { mirror.scrollTop = input.scrollTop; });

  // -- the check ------------------------------------------------------------------------------
  let last = { text: null, ok: false };  // the last answer and the text it was about
  let timer = null;
  const mark = (start, end) => {
    const text = input.value;
    if (start === null || start === undefined) { mirror.replaceChildren(text); return; }
    const to = Math.max(start, end ?? start + 1);
    // An empty span (the end of the formula) is marked as one space after it.
    const marked = to > start ? text.slice(start, to) : " ";
    mirror.replaceChildren(text.slice(0, start), h("mark.formula-error-span", {}, marked), text.slice(to), "\n");
    mirror.scrollTop = input.scrollTop;
  };
  const run = async () => {
    const text = input.value;
    if (!text.trim()) {
      last = { text, ok: false };
      status.className = "formula-check";
      status.textContent = "";
      mark(null);
      return last;
    }
    let answer;
    try {
      answer = await api("POST", CHECK, column ? { formula: text, column_id: column.id } : { formula: text });
    } catch (e) {
      answer = { ok: false, error: e?.message || String(e), position: null };
    }
    if (input.value !== text) return last;  // typed on since: a newer check follows
    last = { text, ...answer };
    status.className = "formula-check " + (answer.ok ? "ok" : "bad");
    if (answer.ok) {
      const shown = answer.format ? ` · shows as ${FORMULA_FORMATS[answer.format].toLowerCase()}${answer.currency ? ` (${answer.currency})` : ""}` : "";
      status.textContent = `OK · gives ${answer.type}${shown}`;
      mark(null);
      input.removeAttribute("aria-invalid");
    } else {
      const where = answer.position !== null && answer.position !== undefined ? ` (at character ${answer.position + 1})` : "";
      status.textContent = `${answer.error}${where}`;
      mark(answer.position, answer.end);
      input.setAttribute("aria-invalid", "true");
    }
    onAnswer(last);
    return last;
  };
  const changed = () => {
    mark(null);  // the old span no longer fits the text
    clearTimeout(timer);
    timer = setTimeout(run, CHECK_DELAY_MS);
  };
  mark(null);

  return {
    el,
    input,
    /** The answer for the text as it is now (checking it first if need be). */
    async check() {
      if (last.text !== input.value) { clearTimeout(timer); await run(); }
      return last;
    },
    stop: () => clearTimeout(timer),
  };
}
