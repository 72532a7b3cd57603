// The filter builder: the Filter popover's panel (nested condition groups, each condition's field,
// operator and value inputs), its draft kept per view while the popover is closed, saved as the
// view's `filters`. viewtools.js owns the popover and the toolbar; this module fills the panel.
import { h } from "../dom.js";

const MAX_DEPTH = 5;  // the server's nesting limit for filter groups

// Filter operators per value class, as docs/GRID.md lists them (the server checks them too).
const OPERATORS = {
  text: ["contains", "does_not_contain", "is", "is_not", "starts_with", "is_empty", "is_not_empty"],
  number: ["=", "!=", ">", "<", ">=", "<=", "between", "is_empty", "is_not_empty"],
  date: ["is", "is_before", "is_after", "is_on_or_before", "is_on_or_after", "between", "is_empty", "is_not_empty"],
  boolean: ["is", "is_empty", "is_not_empty"],
  select: ["is", "is_not", "is_any_of", "is_none_of", "is_empty", "is_not_empty"],
  multi: ["has_any_of", "has_all_of", "has_none_of", "is_empty", "is_not_empty"],
  contacts: ["contains", "does_not_contain", "is_empty", "is_not_empty"],
};
OPERATORS.level = OPERATORS.number;  // a Relationship field filters by its level, 0-4 (blank: level 0, "empty")
const OP_LABELS = {
  is: "is", is_not: "is not", contains: "contains", does_not_contain: "does not contain", starts_with: "starts with",
  "=": "=", "!=": "≠", ">": ">", "<": "<", ">=": "≥", "<=": "≤", between: "is between",
  is_before: "is before", is_after: "is after", is_on_or_before: "is on or before", is_on_or_after: "is on or after",
  is_any_of: "is any of", is_none_of: "is none of", has_any_of: "has any of", has_all_of: "has all of",
  has_none_of: "has none of", is_empty: "is empty", is_not_empty: "is not empty",
};
const NO_VALUE = new Set(["is_empty", "is_not_empty"]);
const LIST_OPS = new Set(["is_any_of", "is_none_of", "has_any_of", "has_all_of", "has_none_of"]);

let uid = 0;
const conditionKey = () => `vt-cond-${++uid}`;  // a stable key per condition, to focus it after a rebuild
export const clone = (value) => (value === undefined ? undefined : JSON.parse(JSON.stringify(value)));
export const isGroup = (item) => Boolean(item) && typeof item === "object" && Array.isArray(item.conditions);

/** Leaf conditions in a filter group, nested groups included. */
export function countConditions(group) {
  if (!isGroup(group)) return 0;
  return group.conditions.reduce((n, item) => n + (isGroup(item) ? countConditions(item) : 1), 0);
}

const emptyGroup = () => ({ conjunction: "and", conditions: [] });

function defaultValue(kind, op, column) {
  if (NO_VALUE.has(op)) return undefined;
  if (op === "between") return kind === "date" ? ["today", "today"] : [null, null];
  if (LIST_OPS.has(op)) return [];
  if (kind === "boolean") return true;
  if (kind === "number") return null;
  if (kind === "level") return 1;
  if (kind === "date") return "today";
  if (kind === "select") return column?.options?.[0]?.name ?? null;
  return "";
}

const shapeOf = (op) => (NO_VALUE.has(op) ? "none" : op === "between" ? "pair" : LIST_OPS.has(op) ? "list" : "one");

function newCondition(column, kindOf) {
  const kind = kindOf(column);
  const operator = OPERATORS[kind][0];
  const cond = { column_id: column.id, operator };
  const value = defaultValue(kind, operator, column);
  if (value !== undefined) cond.value = value;
  return cond;
}

/**
 * Fill the Filter popover's `panel` for the grid's current view. `deps`: grid, drafts (view id ->
 * {base, group}), kindOf(column), loadFormulaKinds(), whileBusy(button, work), saveConfig(patch),
 * errorBox(), showError(box, e), onSaved(draft) (the toolbar says so).
 */
export async function fillFilter(panel, pop, { grid, drafts, kindOf, loadFormulaKinds, whileBusy, saveConfig, errorBox, showError, onSaved }) {
  await loadFormulaKinds();
  const view = grid.view();
  if (!view) { panel.append(h("p.vt-empty", {}, "No view selected.")); return; }
  // A draft the user never changed follows the saved filter (someone may have changed it since).
  const saved = isGroup(view.config.filters) ? view.config.filters : emptyGroup();
  const kept = drafts.get(view.id);
  if (!kept || JSON.stringify(kept.group) === kept.base) drafts.set(view.id, { base: JSON.stringify(saved), group: clone(saved) });
  const draft = drafts.get(view.id).group;
  const unsaved = JSON.stringify(draft) !== JSON.stringify(saved);
  const errors = new WeakMap();     // condition or group object -> server message
  const keys = new WeakMap();       // object -> stable key for focusing after a rebuild
  const keyOf = (obj) => { if (!keys.has(obj)) keys.set(obj, conditionKey()); return keys.get(obj); };
  const body = h("div.vt-filter-body");
  const error = errorBox();
  const save = h("button.primary", { type: "button", dataset: { action: "save-filter" } }, "Save filter");
  const discard = h("button", { type: "button", dataset: { action: "discard-filter" } }, "Discard changes");

  // After a rebuild, focus moves to `focusWhat` inside the condition or group with key `focusKey`.
  function render(focusKey, focusWhat = "select") {
    body.replaceChildren(renderGroup(draft, 1, null));
    if (focusKey) body.querySelector(`[data-key="${focusKey}"]`)?.querySelector(focusWhat)?.focus();
  }
  const OWN_ADD = ":scope > .vt-factions > [data-action=add-condition]";
  const OWN_CONJ = ":scope > .vt-fline > .vt-lead-cell > select.vt-conj";

  function renderGroup(group, depth, parent) {
    const box = h(depth === 1 ? "div.vt-fgroup.vt-root" : "div.vt-fgroup.vt-nested", {
      role: "group", "aria-label": depth === 1 ? "Filter conditions" : `Condition group, level ${depth}`,
      dataset: { key: keyOf(group), depth: String(depth) } });
    if (depth > 1) {
      box.append(h("div.vt-fgroup-head", {},
        h("span.vt-muted", {}, group.conjunction === "or" ? "Any of the following are true…" : "All of the following are true…"),
        h("button.vt-icon", { type: "button", "aria-label": "Remove condition group", title: "Remove group", dataset: { action: "remove-group" },
          onclick: () => { parent.conditions.splice(parent.conditions.indexOf(group), 1); render(keyOf(parent), OWN_ADD); } }, "×")));
    }
    if (!group.conditions.length) {
      box.append(h("p.vt-empty", {}, depth === 1 ? "No filter conditions are applied to this view." : "No conditions in this group yet."));
    }
    group.conditions.forEach((item, i) => {
      let lead;
      if (i === 0) lead = h("span.vt-lead", {}, "Where");
      else if (i === 1) {
        lead = h("select.vt-conj", { "aria-label": "Match all (and) or any (or) of these conditions", dataset: { role: "conjunction" } },
          h("option", { value: "and", selected: group.conjunction !== "or" }, "and"),
          h("option", { value: "or", selected: group.conjunction === "or" }, "or"));
        lead.addEventListener("change", () => { group.conjunction = lead.value; render(keyOf(group), OWN_CONJ); });
      } else lead = h("span.vt-lead", {}, group.conjunction === "or" ? "or" : "and");
      const line = h("div.vt-fline", {}, h("div.vt-lead-cell", {}, lead),
        isGroup(item) ? renderGroup(item, depth + 1, group) : renderCondition(item, group));
      const problem = errors.get(item);
      if (problem && isGroup(item)) line.append(h("div.vt-field-error", {}, problem));
      box.append(line);
    });
    const addCondition = h("button.vt-link", { type: "button", dataset: { action: "add-condition" } }, "+ Add condition");
    addCondition.addEventListener("click", () => {
      const column = grid.columns()[0];
      if (!column) return;
      const cond = newCondition(column, kindOf);
      group.conditions.push(cond);
      render(keyOf(cond));
    });
    const actions = h("div.vt-factions", {}, addCondition);
    if (depth < MAX_DEPTH) {
      const addGroup = h("button.vt-link", { type: "button", dataset: { action: "add-group" } }, "+ Add condition group");
      addGroup.addEventListener("click", () => {
        const column = grid.columns()[0];
        const inner = { conjunction: "or", conditions: column ? [newCondition(column, kindOf)] : [] };
        group.conditions.push(inner);
        render(inner.conditions[0] ? keyOf(inner.conditions[0]) : keyOf(inner));
      });
      actions.append(addGroup);
    }
    box.append(actions);
    return box;
  }

  function renderCondition(cond, group) {
    const column = grid.column(cond.column_id);
    const kind = kindOf(column);
    const row = h("div.vt-cond", { dataset: { key: keyOf(cond) } });
    const columnSelect = h("select.vt-col", { "aria-label": "Field", dataset: { role: "column" } },
      column ? null : h("option", { value: cond.column_id, selected: true }, "(deleted field)"),
      grid.columns().map((c) => h("option", { value: c.id, selected: c.id === cond.column_id }, c.name)));
    columnSelect.addEventListener("change", () => {
      const next = grid.column(columnSelect.value);
      const before = kindOf(column);
      cond.column_id = next.id;
      const nextKind = kindOf(next);
      if (nextKind !== before || !OPERATORS[nextKind].includes(cond.operator) || nextKind === "select" || nextKind === "multi") {
        const fresh = newCondition(next, kindOf);
        cond.operator = fresh.operator;
        if ("value" in fresh) cond.value = fresh.value; else delete cond.value;
      }
      errors.delete(cond);
      render(keyOf(cond), "select.vt-col");
    });
    const ops = OPERATORS[kind].includes(cond.operator) ? OPERATORS[kind] : [cond.operator, ...OPERATORS[kind]];
    const opSelect = h("select.vt-op", { "aria-label": "Operator", dataset: { role: "operator" } },
      ops.map((op) => h("option", { value: op, selected: op === cond.operator }, OP_LABELS[op] || op)));
    opSelect.addEventListener("change", () => {
      const before = cond.operator;
      cond.operator = opSelect.value;
      if (shapeOf(before) !== shapeOf(cond.operator)) {
        const value = defaultValue(kind, cond.operator, column);
        if (value === undefined) delete cond.value; else cond.value = value;
      }
      errors.delete(cond);
      render(keyOf(cond), "select.vt-op");
    });
    const remove = h("button.vt-icon", { type: "button", "aria-label": "Remove condition", title: "Remove condition", dataset: { action: "remove-condition" } }, "×");
    remove.addEventListener("click", () => {
      group.conditions.splice(group.conditions.indexOf(cond), 1);
      render(keyOf(group), OWN_ADD);
    });
    row.append(columnSelect, opSelect, h("span.vt-value", {}, valueInputs(cond, column, kind)), remove);
    const problem = errors.get(cond);
    if (problem) {
      row.classList.add("invalid");
      row.querySelectorAll("select, input").forEach((el) => el.setAttribute("aria-invalid", "true"));
      return h("div.vt-cond-wrap", {}, row, h("div.vt-field-error", {}, problem));
    }
    return row;
  }

  function markErrors(payload) {
    for (const [path, text] of Object.entries(payload?.fields || {})) {
      const m = /^config\.filters((?:\.conditions\[\d+\])*)/.exec(path);
      if (!m) continue;
      let node = draft;
      for (const [, i] of m[1].matchAll(/\[(\d+)\]/g)) node = isGroup(node) ? node.conditions[Number(i)] : undefined;
      if (node) errors.set(node, `${path.slice(m[0].length).replace(/^\./, "") || "group"} ${text}`.trim());
    }
  }

  save.addEventListener("click", () => whileBusy(save, async () => {
    error.textContent = "";
    try {
      await saveConfig({ filters: clone(draft) });
      drafts.delete(view.id);
      pop.close({ focus: true });
      onSaved(draft);
    } catch (e) {
      // The draft stays as the user built it; show what the server said, next to the conditions it names.
      showError(error, e);
      markErrors(e.payload);
      render();
    }
  }));
  discard.addEventListener("click", () => {
    drafts.delete(view.id);
    pop.refill().then(() => pop.focusFirst());
  });

  render();
  panel.append(h("h3.vt-title", {}, `Filter “${view.name}”`), body, error,
    h("div.vt-foot", {}, unsaved ? h("span.vt-unsaved", {}, "Unsaved changes") : null, discard, save));
}

function valueInputs(cond, column, kind) {
  const op = cond.operator;
  if (NO_VALUE.has(op)) return [];
  if (op === "between") {
    const pair = Array.isArray(cond.value) ? cond.value : [null, null];
    cond.value = pair;
    return [scalarInput(kind, column, () => pair[0], (v) => { pair[0] = v; }, "From"), h("span.vt-muted", {}, "and"),
      scalarInput(kind, column, () => pair[1], (v) => { pair[1] = v; }, "To")];
  }
  if (LIST_OPS.has(op)) {
    const chosen = Array.isArray(cond.value) ? cond.value : [];
    cond.value = chosen;
    const options = column?.options || [];
    if (!options.length) return [h("span.vt-muted", {}, "This field has no options")];
    return [h("span.vt-options", { role: "group", "aria-label": "Values" }, options.map((o) => {
      const box = h("input", { type: "checkbox", checked: chosen.some((v) => v.toLowerCase() === o.name.toLowerCase()) });
      box.addEventListener("change", () => {
        const at = chosen.findIndex((v) => v.toLowerCase() === o.name.toLowerCase());
        if (box.checked && at < 0) chosen.push(o.name);
        if (!box.checked && at >= 0) chosen.splice(at, 1);
      });
      return h("label.vt-chip", {}, box, " ", o.name);
    }))];
  }
  return [scalarInput(kind, column, () => cond.value, (v) => { cond.value = v; }, "Value")];
}

function scalarInput(kind, column, get, set, label) {
  if (kind === "boolean") {
    const select = h("select", { "aria-label": label },
      h("option", { value: "true", selected: get() !== false }, "checked"),
      h("option", { value: "false", selected: get() === false }, "unchecked"));
    set(select.value === "true");
    select.addEventListener("change", () => set(select.value === "true"));
    return select;
  }
  if (kind === "select") {
    const current = get();
    const options = column?.options || [];
    const known = options.some((o) => o.name === current);
    const select = h("select", { "aria-label": label },
      h("option", { value: "", selected: current === null || current === undefined || current === "" }, "Choose an option"),
      !known && current ? h("option", { value: current, selected: true }, current) : null,
      options.map((o) => h("option", { value: o.name, selected: o.name === current }, o.name)));
    select.addEventListener("change", () => set(select.value || null));
    return select;
  }
  if (kind === "level") {
    const value = get();
    const input = h("input", { type: "number", min: "0", max: "4", step: "1", "aria-label": `${label} (level 0-4)`,
      placeholder: "0-4", value: typeof value === "number" ? String(value) : "" });
    input.addEventListener("input", () => {
      const n = input.value === "" ? null : Number(input.value);
      set(n === null || !Number.isFinite(n) ? null : n);
    });
    return input;
  }
  if (kind === "number") {
    const percent = column?.type === "percent";
    const value = get();
    const input = h("input", { type: "number", step: "any", "aria-label": percent ? `${label} (%)` : label, placeholder: percent ? "%" : "Enter a number",
      value: typeof value === "number" ? String(percent ? Math.round(value * 100 * 1e8) / 1e8 : value) : "" });
    input.addEventListener("input", () => {
      const n = input.value === "" ? null : Number(input.value);
      set(n === null || !Number.isFinite(n) ? null : percent ? n / 100 : n);
    });
    return input;
  }
  if (kind === "date") {
    const value = get();
    const mode = h("select", { "aria-label": `${label}: today or an exact date` },
      h("option", { value: "today", selected: value === "today" }, "today"),
      h("option", { value: "exact", selected: value !== "today" }, "exact date"));
    const date = h("input", { type: "date", "aria-label": `${label} date`, value: typeof value === "string" && value !== "today" ? value.slice(0, 10) : "" });
    date.hidden = value === "today";
    mode.addEventListener("change", () => {
      date.hidden = mode.value === "today";
      set(mode.value === "today" ? "today" : date.value || null);
      if (!date.hidden) date.focus();
    });
    date.addEventListener("input", () => set(date.value || null));
    return h("span.vt-date", {}, mode, date);
  }
  const value = get();
  const input = h("input", { type: "text", "aria-label": label, placeholder: "Enter a value", value: typeof value === "string" ? value : "" });
  input.addEventListener("input", () => set(input.value));
  return input;
}
