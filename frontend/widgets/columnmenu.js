// A column header's menu, as Airtable's field menu: edit the field (name, type, options, fund, formula),
// insert a field beside it, sort, group, hide, freeze, delete. Keyboard: the header's ⋮ button opens it
// (Enter or Space); then the keys of every menu (menu.js): arrows move, a letter jumps, Escape or Tab
// closes it and gives the focus back to the button.
import { h } from "../dom.js";
import { FORMULA_FORMATS, isNumeric } from "./columns.js";
import { menuKeys, nameMenu } from "./menu.js";
import { later } from "../lazy.js";

// The dialogs (and the formula editor they hold) open only from the menu's items: not in the first rows' modules.
const dialogs = later(() => import("./dialogs.js"));
const columnDialog = async (options) => (await dialogs.get()).columnDialog(options);
const confirmDialog = async (options) => (await dialogs.get()).confirmDialog(options);
const notice = async (title, error) => { const d = await dialogs.get(); return d.notice(title, d.errorText(error)); };

const MAX_FROZEN = 10;  // the server's limit for a view's frozen columns

/** The header's menu button (Tabulator's headerMenuIcon): a real, named button, so it can be reached by Tab. */
export function columnMenuButton(column) {
  const button = h("button.column-menu-button", { type: "button", title: "Field options",
    "aria-label": `Field options: ${column.name}`, "aria-haspopup": "menu", dataset: { columnMenu: column.id } }, "⋮");
  button.addEventListener("click", (event) => {
    // From the keyboard a click has no position: open the menu under the button, not in the window's corner.
    if (event.detail !== 0 || !event.isTrusted) return;
    event.stopPropagation();
    event.preventDefault();
    const box = button.getBoundingClientRect();
    button.parentElement.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window,
      clientX: box.left, clientY: box.bottom + 2 }));
  });
  // Focusing a button out of view scrolls the header alone; scroll the rows with it, or they no longer line up.
  button.addEventListener("focus", () => requestAnimationFrame(() => {
    const table = button.closest(".tabulator");
    const headers = table?.querySelector(".tabulator-header-contents");
    const rows = table?.querySelector(".tabulator-tableholder");
    if (headers && rows && headers.scrollLeft !== rows.scrollLeft) rows.scrollLeft = headers.scrollLeft;
  }));
  return button;
}

/** Tabulator menu items for the column `columnId`. */
export function columnMenu(grid, columnId) {
  const column = grid.column(columnId);
  if (!column) return [];
  const view = grid.view();
  const config = view?.config || {};
  const visible = visibleIds(grid);
  const place = visible.indexOf(column.id) + 1;
  const ordinal = isNumeric(column) || ["date", "created_time", "last_modified_time", "checkbox", "relationship"].includes(column.type) || column.config?.result_type === "number";
  const [low, high] = ordinal ? ["1", "9"] : ["A", "Z"];
  const grouped = config.group_by === column.id;
  const buttons = [];

  const item = (label, action, { disabled = false, why = "", danger = false, name } = {}) => {
    const button = h(danger ? "button.column-menu-item.destructive" : "button.column-menu-item",
      { type: "button", role: "menuitem", tabindex: "-1", disabled, title: why || undefined, dataset: { action: name } }, label);
    buttons.push(button);
    return { label: button, disabled, action: (event) => run(grid, column.id, event, action) };
  };
  const separator = { separator: true };
  const noView = "There is no view to save this in";

  const items = [
    item("Edit field…", () => editField(grid, column), { name: "edit" }),
    ...formatItems(grid, column, item, separator),
    separator,
    item("Insert field left", () => insertField(grid, column, "left"), { name: "insert-left" }),
    item("Insert field right", () => insertField(grid, column, "right"), { name: "insert-right" }),
    separator,
    item(`Sort ${low} → ${high}`, () => changeView(grid, { sorts: [{ column_id: column.id, direction: "asc" }] }),
      { disabled: !view, why: view ? "" : noView, name: "sort-asc" }),
    item(`Sort ${high} → ${low}`, () => changeView(grid, { sorts: [{ column_id: column.id, direction: "desc" }] }),
      { disabled: !view, why: view ? "" : noView, name: "sort-desc" }),
    item(grouped ? "Ungroup" : "Group by this field", () => changeView(grid, { group_by: grouped ? null : column.id }),
      { disabled: !view, why: view ? "" : noView, name: "group" }),
    separator,
    item("Hide field", () => changeView(grid, { hidden: [...(config.hidden || []).filter((id) => id !== column.id), column.id] }),
      { disabled: !view || visible.length < 2, why: !view ? noView : visible.length < 2 ? "The last visible field cannot be hidden" : "", name: "hide" }),
    item("Freeze up to here", () => changeView(grid, { frozen: place }),
      { disabled: !view || place < 1 || place > MAX_FROZEN, why: !view ? noView : place > MAX_FROZEN ? `At most ${MAX_FROZEN} fields can be frozen` : "", name: "freeze" }),
    separator,
    item("Delete field", () => deleteField(grid, column), { danger: true, name: "delete", disabled: Boolean(column.key),
      why: column.key ? "Built-in fields cannot be deleted; hide them instead" : "" }),
  ];

  // Tabulator builds the menu from these items right after this returns: then name it and focus its first item.
  setTimeout(() => {
    const menu = buttons[0].closest(".tabulator-menu");
    if (!menu) return;
    menuKeys(menu, { tabStays: true, close: () => { closeMenu(grid); focusHeader(grid, column.id); } });
    nameMenu(menu, `Field options: ${column.name}`);
  }, 0);
  return items;
}

/**
 * A formula's result format, as in the field dialog: automatic or one of FORMULA_FORMATS; the
 * current one is marked (aria-current). A text result takes no number format: none are offered.
 */
function formatItems(grid, column, item, separator) {
  if (column.type !== "formula" || column.result?.type === "text") return [];
  const now = column.config?.format || "";
  const choices = [["", "Automatic format"], ...Object.entries(FORMULA_FORMATS).map(([value, label]) => [value, `Format as ${label.toLowerCase()}`])];
  const entries = choices.map(([value, label]) => {
    const entry = item(label, () => setFormat(grid, column, value || null), { name: `format-${value || "automatic"}` });
    entry.label.prepend(h("span.menu-check", { "aria-hidden": "true" }, value === now ? "✓ " : ""));
    if (value === now) entry.label.setAttribute("aria-current", "true");
    return entry;
  });
  return [separator, ...entries];
}

async function setFormat(grid, column, format) {
  // The dialog's rule: automatic keeps no currency of its own; currency keeps the one in force.
  const { format: _format, currency: _currency, ...rest } = column.config || {};
  const currency = format === "currency" ? (column.config?.currency || column.result?.currency || "USD") : null;
  const failure = await sendOps(grid, { op: "update_column", column_id: column.id, config: { ...rest, format, ...(currency ? { currency } : {}) } });
  if (failure) await notice("The format was not changed", failure);
}

// -- keyboard ------------------------------------------------------------------------------

function closeMenu(grid) {
  grid.table?.modules?.menu?.rootPopup?.hide();
}

function focusHeader(grid, columnId) {
  grid.table?.element.querySelector(`.column-menu-button[data-column-menu="${CSS.escape(columnId)}"]`)?.focus();
}

/** Run a menu action; a keyboard user gets the focus back on the header's button afterwards. */
async function run(grid, columnId, event, action) {
  const fromKeyboard = event?.detail === 0;
  try {
    await action();
  } catch (e) {  // offline, say, mid-way: say so rather than fail silently (a 401 shows sign-in instead)
    if (e?.status !== 401) await notice("That did not work", e);
  }
  if (fromKeyboard || !document.activeElement || document.activeElement === document.body) focusHeader(grid, columnId);
}

// -- helpers ---------------------------------------------------------------------------------

/** Visible grid column ids, left to right, as shown now. */
function visibleIds(grid) {
  if (!grid.table) return [];
  return grid.table.getColumns().filter((c) => c.isVisible() && grid.column(c.getField())).map((c) => c.getField());
}

/** Send column ops; null when the server took them, else its error (422 …). */
async function sendOps(grid, ...ops) {
  const failure = await grid.send(...ops);
  if (failure) return failure;
  await grid.reloadColumns();
  return null;
}

/**
 * Save `patch` into the current view. References to deleted columns in the view are dropped on the way:
 * the server refuses a config that names a column that no longer exists.
 */
async function changeView(grid, patch) {
  const view = grid.view();
  if (!view) return;
  const live = new Set(grid.columns().map((c) => c.id));
  const fixes = staleFixes(view.config || {}, live);
  const change = { ...fixes, ...patch };
  if (!Object.keys(change).length) return;
  try {
    await grid.updateView(change);
  } catch (e) {
    if (e?.status !== 401) await notice("The view was not changed", e);
  }
}

function staleFixes(config, live) {
  const fixes = {};
  for (const key of ["hidden", "order"]) {
    const list = config[key] || [];
    if (list.some((id) => !live.has(id))) fixes[key] = list.filter((id) => live.has(id));
  }
  const widths = config.widths || {};
  if (Object.keys(widths).some((id) => !live.has(id))) fixes.widths = Object.fromEntries(Object.entries(widths).filter(([id]) => live.has(id)));
  const sorts = config.sorts || [];
  if (sorts.some((s) => !live.has(s?.column_id))) fixes.sorts = sorts.filter((s) => live.has(s?.column_id));
  if (config.group_by && !live.has(config.group_by)) fixes.group_by = null;
  const prune = (group) => ({ ...group, conditions: (group.conditions || [])
    .filter((c) => (c && "conditions" in c) || live.has(c?.column_id))
    .map((c) => ("conditions" in c ? prune(c) : c)) });
  if (config.filters && JSON.stringify(prune(config.filters)) !== JSON.stringify(config.filters)) fixes.filters = prune(config.filters);
  return fixes;
}

// -- actions ---------------------------------------------------------------------------------

async function editField(grid, column) {
  await columnDialog({
    column,
    title: `Edit field “${column.name}”`,
    saveLabel: "Save",
    submit: (op) => sendOps(grid, op),
    values: () => (grid.table ? grid.table.getData().map((row) => row[column.id]) : []),
  });
}

async function insertField(grid, column, side) {
  const all = grid.columns();
  const index = all.findIndex((c) => c.id === column.id);
  const after = side === "right" ? column.id : index > 0 ? all[index - 1].id : "";  // "": first
  const id = crypto.randomUUID();
  const op = await columnDialog({
    title: `Insert a field ${side} of “${column.name}”`,
    saveLabel: "Add field",
    submit: async (add) => {
      const failure = await sendOps(grid, { ...add, column_id: id, after_column_id: after });
      if (failure) return failure;
      // A view with its own column order: put the new field there too, beside this one.
      const order = grid.view()?.config?.order || [];
      if (order.includes(column.id)) {
        const next = order.filter((c) => c !== id);
        next.splice(next.indexOf(column.id) + (side === "right" ? 1 : 0), 0, id);
        await changeView(grid, { order: next });
      }
      return null;
    },
  });
  const added = op && (grid.table?.getColumn(id) || null);
  if (added) grid.table.scrollToColumn(added, "middle", false);
}

async function deleteField(grid, column) {
  if (column.key) return;
  const ok = await confirmDialog({
    title: `Delete the field “${column.name}”?`,
    message: `“${column.name}” and its values leave the grid for everyone, in every view. Formulas that use it will show an error.`,
    confirmLabel: "Delete field",
    danger: true,
  });
  if (!ok) return;
  const failure = await sendOps(grid, { op: "delete_column", column_id: column.id });
  if (failure) return notice("The field was not deleted", failure);
  await changeView(grid, {});  // drop it from this view's hidden, order, widths and sorts
}
