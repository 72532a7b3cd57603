// Modal dialogs: add or edit a column (with a live formula check), confirm, notice, and resolve a save conflict.
import { api } from "../api.js";
import { h } from "../dom.js";
import { FORMULA_FORMATS, TYPE_LABELS, display } from "./columns.js";
import { formulaEditor } from "./formula.js";

/** A modal <dialog> around a form (method=dialog): the pressed button's value becomes returnValue; removed when closed. */
export function modal(title, body, actions) {
  const dialog = h("dialog.modal", { "aria-labelledby": "modal-title" },
    h("form", { method: "dialog" }, h("h2", { id: "modal-title" }, title), body, h("div.actions", {}, actions)));
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
  return dialog;
}

// Types a column can move between (the server's schema_ops.RETYPABLE). Fund, formula, contacts and the
// computed types keep theirs, and so do built-in investor fields (other features read them by key).
export const RETYPABLE = new Set(["text", "long_text", "number", "currency", "percent", "date", "checkbox",
  "single_select", "multi_select", "email", "url", "phone"]);
const SELECTS = new Set(["single_select", "multi_select"]);
const MONEY = new Set(["currency", "fund"]);
// New options get the server's palette (columns.PALETTE), in turn.
const PALETTE = ["#dbeafe", "#dcfce7", "#fef9c3", "#fee2e2", "#f3e8ff", "#ffedd5", "#e0f2fe", "#f1f5f9"];
const CURRENCIES = ["USD", "EUR", "GBP", "CHF", "JPY", "CAD", "AUD", "NZD", "SEK", "NOK", "DKK", "SGD", "HKD", "CNY", "INR", "BRL", "ILS", "AED"];
const FUND_KEYS = ["name", "vintage", "target", "close_date"];
const typeLabel = (type) => TYPE_LABELS[type] || type.replace(/_/g, " ");
let dialogCount = 0;  // unique ids for aria-describedby when a dialog opens over another

/** A refusal from the server, one "field: why" per problem (the op's index left out). */
export function errorText(error) {
  const fields = error?.payload?.fields;
  if (!fields) return error?.message || String(error);
  // A field's own name in words ("ops[0].config.format" is "format"): never a path or an index.
  const name = (key) => key.split(".").pop().replace(/\[\d+\]/g, "").replace(/_/g, " ");
  return Object.entries(fields).map(([key, why]) => `${name(key)}: ${why}`).join("; ");
}

/** The distinct values of a column's cells, as option names for it as a select (at most 100). */
function optionNames(values, type) {
  const seen = new Map();
  for (const value of values) {
    const items = Array.isArray(value) ? value : typeof value === "string" && type === "multi_select" ? value.split(",") : [value];
    for (const item of items) {
      if (item === null || item === undefined || item === false || typeof item === "object") continue;
      const text = String(item).trim();
      if (text && !seen.has(text.toLowerCase())) seen.set(text.toLowerCase(), text);
    }
  }
  return [...seen.values()].slice(0, 100);
}

/**
 * Ask for a new column, or edit `column` (as the API gives it): name, type, select options (names,
 * colours, order), formula (checked live), fund details, currency.
 * `submit(op)` sends the op and resolves to null when the server took it, or to the error, which is shown
 * in the dialog while everything typed stays (the dialog closes only on success or Cancel). Without
 * `submit` the op is simply returned. `values()` gives the column's cells, offered as options when a
 * field becomes a select. Resolves to the saved op, or null (cancelled, or nothing changed).
 */
export function columnDialog({ column = null, title, saveLabel, submit = null, values = null } = {}) {
  return new Promise((resolve) => {
    const editing = Boolean(column);
    const uid = `cd${++dialogCount}`;
    // Labels point at their control (for=), so a select's options are not part of its name.
    const field = (label, control, tag = "div.field") => {
      control.id = `${uid}-${control.name}`;
      return h(tag, {}, h("label", { for: control.id }, label), control);
    };
    const fixedType = editing && (Boolean(column.key) || !RETYPABLE.has(column.type));
    const types = !editing ? Object.keys(TYPE_LABELS) : fixedType ? [column.type] : [...RETYPABLE];

    const name = h("input", { name: "name", autocomplete: "off", "aria-required": "true", placeholder: "e.g. Check size", value: column?.name });
    const type = h("select", { name: "type", disabled: fixedType },
      types.map((t) => h("option", { value: t, selected: t === column?.type }, typeLabel(t))));
    const typeHint = fixedType ? h("p.hint", { id: `${uid}-type-hint` },
      column.key ? "Built-in fields keep their type: other features read them." : `${typeLabel(column.type)} fields keep their type.`) : null;
    if (typeHint) type.setAttribute("aria-describedby", typeHint.id);
    const retypeNote = h("p.hint.warning", { id: `${uid}-retype`, role: "note" },
      "Changing the type converts every value in this field, as the server decides (\"$1,200\" becomes 1200, \"yes\" becomes checked). "
      + "If any value cannot be converted, nothing changes and you are told how many cells are in the way.");

    // Select options: name, colour, order; ids are kept so that cells follow a renamed option.
    let options = (column?.options || []).map((o) => ({ id: o.id, name: o.name, color: o.color }));
    const optionList = h("ol.option-list");
    const addOption = h("button.add-option", { type: "button" }, "+ Add option");
    const optionsRow = h("fieldset.row-options", {}, h("legend", {}, "Options"), optionList, addOption);
    const focusOption = (index, part = "name") => {
      const item = optionList.children[index];
      if (!item) return addOption.focus();
      (item.querySelector(`[data-part="${part}"]:not(:disabled)`) || item.querySelector("[data-part=name]")).focus();
    };
    const renderOptions = () => optionList.replaceChildren(...options.map((option, i) => {
      const n = i + 1;
      const colour = h("input.option-colour", { type: "color", value: option.color || PALETTE[i % PALETTE.length], "aria-label": `Colour of option ${n}`, dataset: { part: "colour" } });
      colour.addEventListener("input", () => { option.color = colour.value; });
      const text = h("input.option-name", { type: "text", value: option.name, autocomplete: "off", "aria-label": `Option ${n}`, dataset: { part: "name", index: String(i) } });
      text.addEventListener("input", () => { option.name = text.value; });
      const move = (by) => {
        options.splice(i + by, 0, ...options.splice(i, 1));
        renderOptions();
        focusOption(i + by, by < 0 ? "up" : "down");
      };
      const up = h("button.icon", { type: "button", title: "Move up", "aria-label": `Move option ${n} up`, disabled: i === 0, dataset: { part: "up" } }, "↑");
      const down = h("button.icon", { type: "button", title: "Move down", "aria-label": `Move option ${n} down`, disabled: i === options.length - 1, dataset: { part: "down" } }, "↓");
      const remove = h("button.icon", { type: "button", title: "Remove", "aria-label": `Remove option ${n}`, dataset: { part: "remove" } }, "×");
      up.addEventListener("click", () => move(-1));
      down.addEventListener("click", () => move(1));
      remove.addEventListener("click", () => {
        options.splice(i, 1);
        renderOptions();
        focusOption(Math.min(i, options.length - 1), "remove");
      });
      return h("li", {}, colour, text, up, down, remove);
    }));
    const newOption = (at) => {
      options.splice(at, 0, { name: "", color: PALETTE[options.length % PALETTE.length] });
      renderOptions();
      focusOption(at);
    };
    addOption.addEventListener("click", () => newOption(options.length));

    // Formula: fields and functions offered as it is typed, checked by the server (widgets/formula.js).
    // Its result's format: automatic (the server's default from the fields it reads) or chosen.
    const formatLabel = (answer) => `Automatic (${answer?.format ? FORMULA_FORMATS[answer.format].toLowerCase() : "as it is"})`;
    const automatic = h("option", { value: "" }, formatLabel(column?.result ? { format: column.result.default_format } : null));
    const format = h("select", { name: "format" }, automatic,
      Object.entries(FORMULA_FORMATS).map(([value, label]) => h("option", { value, selected: value === column?.config?.format }, label)));
    const editor = formulaEditor({ column: editing ? column : null, uid, onAnswer: (answer) => {
      if (answer.ok) automatic.textContent = formatLabel(answer);
    } });
    const formula = editor.input;
    const formulaRow = h("div.formula-parts", {}, editor.el, field("Format", format, "div.field.row-format"));

    // Fund details (a fund column's cells are commitments to that fund).
    const fund = column?.fund || {};
    const shown = (v) => (v === null || v === undefined ? undefined : String(v));
    const fundTitle = h("input", { name: "fund_name", autocomplete: "off", value: shown(fund.name) });
    const vintage = h("input", { name: "vintage", type: "number", step: "1", min: "1900", max: "2200", placeholder: "2026", value: shown(fund.vintage) });
    const target = h("input", { name: "target", type: "number", step: "any", min: "0", placeholder: "50000000", value: shown(fund.target) });
    const closeDate = h("input", { name: "close_date", type: "date", value: shown(fund.close_date) });
    const fundRow = h("div.row-fund-details", {}, editing ? field("Fund title", fundTitle) : null,
      h("div.row-fund", {}, field("Vintage", vintage), field("Target", target), field("Close date", closeDate)));

    // Currency of currency and fund columns (how their cells show).
    const currentCurrency = column?.config?.currency || column?.result?.currency || "USD";
    const currency = h("select", { name: "currency" },
      [...new Set([currentCurrency, ...CURRENCIES])].map((c) => h("option", { value: c, selected: c === currentCurrency }, c)));
    const currencyRow = field("Currency", currency, "div.field.row-currency");

    const sync = () => {
      const t = type.value;
      optionsRow.hidden = !SELECTS.has(t);
      formulaRow.hidden = t !== "formula";
      fundRow.hidden = t !== "fund";
      currencyRow.hidden = !MONEY.has(t) && !(t === "formula" && format.value === "currency");
      retypeNote.hidden = !editing || t === column.type;
      type.setAttribute("aria-describedby", [typeHint?.id, retypeNote.hidden ? null : retypeNote.id].filter(Boolean).join(" "));
      if (editing && SELECTS.has(t) && !SELECTS.has(column.type) && !options.length && values) {
        // Becoming a select: its values are the options to start from (each cell must be one).
        options = optionNames(values(), t).map((n, i) => ({ name: n, color: PALETTE[i % PALETTE.length] }));
        renderOptions();
      }
    };
    type.addEventListener("change", sync);
    format.addEventListener("change", sync);
    renderOptions();
    sync();

    const error = h("div.error", { role: "alert" });
    const cancel = h("button", { type: "submit", value: "cancel", formnovalidate: true }, "Cancel");
    const save = h("button.primary", { type: "submit", value: "save" }, saveLabel);
    const dialog = modal(title, [field("Name", name), field("Type", type), typeHint, retypeNote,
      optionsRow, formulaRow, fundRow, currencyRow, error], [cancel, save]);
    dialog.classList.add("column-dialog");
    const form = dialog.querySelector("form");

    const number = (input, label, integer = false) => {
      if (input.validity.badInput) return { error: `${label} must be a number.` };
      if (input.value === "") return { value: null };
      const n = Number(input.value);
      if (!Number.isFinite(n) || (integer && !Number.isInteger(n))) return { error: `${label} must be a ${integer ? "whole " : ""}number.` };
      return { value: n };
    };

    /** {op} (null when nothing changed) or {error}. */
    async function build() {
      const newName = name.value.trim();
      if (!newName) return { error: "A field needs a name." };
      const t = type.value;
      if (t === "formula" && (!editing || formula.value !== (column.formula || ""))) {
        if (!formula.value.trim()) return { error: "A formula field needs a formula." };
        if (!(await editor.check()).ok) return { error: "Fix the formula first." };
      }
      const opts = options.map((o) => ({ ...(o.id ? { id: o.id } : {}), name: o.name.trim(), color: o.color })).filter((o) => o.name);
      const details = {};
      if (t === "fund") {
        const year = number(vintage, "Vintage", true);
        const goal = number(target, "Target");
        if (year.error || goal.error) return { error: year.error || goal.error };
        Object.assign(details, { vintage: year.value, target: goal.value, close_date: closeDate.value || null });
        if (editing) details.name = fundTitle.value.trim() || fund.name;
      }
      if (!editing) {
        const op = { op: "add_column", name: newName, type: t };
        if (SELECTS.has(t)) op.options = opts;
        if (t === "formula") op.formula = formula.value;
        if (t === "fund") op.fund = { name: newName, ...Object.fromEntries(Object.entries(details).filter(([, v]) => v !== null)) };
        if (MONEY.has(t) && currency.value !== "USD") op.config = { currency: currency.value };
        if (t === "formula" && format.value) op.config = { format: format.value, ...(format.value === "currency" ? { currency: currency.value } : {}) };
        return { op };
      }
      const op = { op: "update_column", column_id: column.id };
      if (newName !== column.name) op.name = newName;
      if (t !== column.type) op.type = t;
      const before = (column.options || []).map((o) => ({ id: o.id, name: o.name, color: o.color }));
      if (SELECTS.has(t) && (t !== column.type || JSON.stringify(opts) !== JSON.stringify(before))) op.options = opts;
      if (t === "formula" && formula.value !== (column.formula || "")) op.formula = formula.value;
      if (t === "fund") {
        // Only what changed: a fund named after its column follows a rename unless its title is sent.
        const changed = FUND_KEYS.filter((k) => (details[k] ?? null) !== (fund[k] ?? null));
        if (changed.length) op.fund = Object.fromEntries(changed.map((k) => [k, details[k]]));
      }
      if (MONEY.has(t) && currency.value !== currentCurrency) op.config = { ...column.config, currency: currency.value };
      if (t === "formula") {
        // Automatic keeps no currency of its own (the default's follows the fields); a chosen currency does.
        const { format: oldFormat = null, currency: oldCurrency = null, ...rest } = column.config || {};
        const chosen = format.value || null;
        const code = chosen === "currency" ? currency.value : null;
        if (chosen !== oldFormat || (chosen === "currency" && code !== oldCurrency)) {
          op.config = { ...rest, format: chosen, ...(code ? { currency: code } : {}) };
        }
      }
      return { op: Object.keys(op).length > 2 ? op : null };
    }

    // Enter in a text field saves (the browser would press the first button, Cancel); in an option, it adds the next one.
    dialog.addEventListener("keydown", (event) => {
      const input = event.target;
      if (event.key !== "Enter" || event.isComposing || !(input instanceof HTMLInputElement) || input.type === "color") return;
      event.preventDefault();
      if (input.dataset.part === "name") {
        const next = Number(input.dataset.index) + 1;
        if (next < options.length) focusOption(next); else newOption(next);
      } else {
        form.requestSubmit(save);
      }
    });

    let busy = false;
    let saved = null;
    form.addEventListener("submit", async (event) => {
      if (event.submitter !== save) return;  // Cancel: the dialog closes itself
      event.preventDefault();
      if (busy) return;
      busy = true;
      save.disabled = true;
      error.textContent = "";
      try {
        const built = await build();
        if (built.error) { error.textContent = built.error; return; }
        if (built.op && submit) {
          save.textContent = "Saving…";
          let failure;
          try { failure = await submit(built.op); } catch (e) { failure = e; }
          if (failure) { error.textContent = errorText(failure); return; }
        }
        saved = built.op;
        dialog.close(built.op ? "save" : "cancel");
      } finally {
        busy = false;
        save.disabled = false;
        save.textContent = saveLabel;
      }
    });
    // Signed out meanwhile: the sign-in page must not sit under this dialog (a sent op stays queued).
    const signedOut = () => dialog.close("cancel");
    window.addEventListener("crm:unauthorized", signedOut);
    dialog.addEventListener("close", () => {
      window.removeEventListener("crm:unauthorized", signedOut);
      editor.stop();
      resolve(dialog.returnValue === "save" ? saved : null);
    });
    if (editing && column.type === "formula") editor.check();
    name.focus();
    if (editing) name.select();
  });
}

/** Ask for a new column; resolves to an add_column op (without column_id) or null. `submit`: see columnDialog. */
export function addColumnDialog({ submit = null } = {}) {
  return columnDialog({ title: "Add a column", saveLabel: "Add column", submit });
}

/** Ask before a destructive step; resolves true when confirmed. Cancel has the focus. */
export function confirmDialog({ title, message, confirmLabel, danger = false }) {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "submit", value: "cancel" }, "Cancel");
    const confirm = h(danger ? "button.danger" : "button.primary", { type: "submit", value: "confirm" }, confirmLabel);
    const dialog = modal(title, h("p", {}, message), [cancel, confirm]);
    dialog.setAttribute("role", "alertdialog");
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"));
    cancel.focus();
  });
}

/** Tell the user something went wrong; resolves when closed. */
export function notice(title, message) {
  return new Promise((resolve) => {
    const ok = h("button.primary", { type: "submit", value: "ok" }, "OK");
    const dialog = modal(title, h("p", { role: "alert" }, message), [ok]);
    dialog.addEventListener("close", () => resolve());
    ok.focus();
  });
}

/** Someone else changed cells we edited: show both values; resolves "mine" or "theirs". */
export function conflictDialog(conflicts, columnsById, ops) {
  return new Promise((resolve) => {
    const mineOf = (c) => ops.find((o) => o.op === "set_cell" && o.row_id === c.row_id && o.column_id === c.column_id)?.value;
    const rows = conflicts.map((c) => {
      const column = columnsById.get(c.column_id) || { name: c.column_id, type: "text" };
      return h("tr", {}, h("th", { scope: "row" }, column.name),
        h("td", {}, display(column, c.current_value) || "(empty)"),
        h("td", {}, c.changed_by || "someone"),
        h("td", {}, display(column, mineOf(c)) || "(empty)"));
    });
    const table = h("table.conflicts", {}, h("thead", {}, h("tr", {}, h("th", {}, "Field"), h("th", {}, "Their value"), h("th", {}, "Changed by"), h("th", {}, "Your value"))), h("tbody", {}, rows));
    const dialog = modal("Someone else changed this", [h("p", {}, "These cells changed after you started editing. Which value should stay?"), table],
      [h("button", { type: "submit", value: "theirs" }, "Keep theirs"), h("button.primary", { type: "submit", value: "mine" }, "Use mine")]);
    dialog.dataset.conflict = "";
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "mine" ? "mine" : "theirs"));
  });
}
