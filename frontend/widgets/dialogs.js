// Modal dialogs: add a column (with a live formula check) and resolve a save conflict.
import { api } from "../api.js";
import { h } from "../dom.js";
import { TYPE_LABELS, display } from "./columns.js";

function modal(title, body, actions) {
  const dialog = h("dialog.modal", { "aria-labelledby": "modal-title" },
    h("form", { method: "dialog" }, h("h2", { id: "modal-title" }, title), body, h("div.actions", {}, actions)));
  document.body.append(dialog);
  dialog.addEventListener("close", () => dialog.remove());
  dialog.showModal();
  return dialog;
}

/** Ask for a new column; resolves to an add_column op (without column_id) or null. */
export function addColumnDialog() {
  return new Promise((resolve) => {
    const name = h("input", { name: "name", required: true, autocomplete: "off", placeholder: "e.g. Check size" });
    const type = h("select", { name: "type" }, Object.entries(TYPE_LABELS).map(([v, label]) => h("option", { value: v }, label)));
    const options = h("input", { name: "options", placeholder: "Comma-separated, e.g. Hot, Warm, Cold" });
    const formula = h("textarea", { name: "formula", rows: 3, spellcheck: false, placeholder: "e.g. {Fund III} + {Fund IV}" });
    const check = h("div.formula-check", { "aria-live": "polite" });
    const vintage = h("input", { name: "vintage", type: "number", placeholder: "2026" });
    const target = h("input", { name: "target", type: "number", placeholder: "50000000" });
    const error = h("div.error", { role: "alert" });
    const optionsRow = h("label.row-options", {}, "Options", options);
    const formulaRow = h("label.row-formula", {}, "Formula", formula, check);
    const fundRow = h("div.row-fund", {}, h("label", {}, "Vintage", vintage), h("label", {}, "Target", target));
    const sync = () => {
      optionsRow.hidden = !["single_select", "multi_select"].includes(type.value);
      formulaRow.hidden = type.value !== "formula";
      fundRow.hidden = type.value !== "fund";
    };
    type.addEventListener("change", sync);
    sync();
    let checking = 0;
    let formulaOk = false;
    formula.addEventListener("input", () => {
      const mine = ++checking;
      clearTimeout(formula.timer);
      formula.timer = setTimeout(async () => {
        if (!formula.value.trim()) { check.textContent = ""; return; }
        try {
          const r = await api("POST", "/api/fundraising/formula/check", { formula: formula.value });
          if (mine !== checking) return;
          formulaOk = r.ok;
          check.className = "formula-check " + (r.ok ? "ok" : "bad");
          check.textContent = r.ok ? `OK · gives ${r.type}` : `${r.error}${r.position !== undefined ? ` (at ${r.position})` : ""}`;
        } catch (e) { check.textContent = e.message; }
      }, 250);
    });
    const save = h("button.primary", { type: "submit", value: "save" }, "Add column");
    const dialog = modal("Add a column", [h("label", {}, "Name", name), h("label", {}, "Type", type), optionsRow, formulaRow, fundRow, error],
      [h("button", { type: "submit", value: "cancel", formnovalidate: true }, "Cancel"), save]);
    save.addEventListener("click", (event) => {
      if (!name.value.trim()) { event.preventDefault(); error.textContent = "A column needs a name."; return; }
      if (type.value === "formula" && !formulaOk) { event.preventDefault(); error.textContent = "Fix the formula first."; }
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "save") return resolve(null);
      const op = { op: "add_column", name: name.value.trim(), type: type.value };
      if (!optionsRow.hidden) op.options = options.value.split(",").map((s) => s.trim()).filter(Boolean).map((n) => ({ name: n }));
      if (!formulaRow.hidden) op.formula = formula.value;
      if (!fundRow.hidden) {
        op.fund = { name: op.name };
        if (vintage.value) op.fund.vintage = Number(vintage.value);
        if (target.value) op.fund.target = Number(target.value);
      }
      resolve(op);
    });
    name.focus();
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
