// View tools: the toolbar's filter (its panel is filterbuilder.js), sorts, group-by, hidden fields, frozen columns, and saving views.
//
// Filters, sorts, grouping and the frozen count are saved with grid.updateView (the grid then
// reloads its rows through the view). Layout that needs no new rows (column order, widths,
// hidden fields, row height) is applied to the table at once, kept in the in-memory view
// config and PATCHed a moment later, so dragging or resizing never reloads the rows.
import { api } from "../api.js";
import { API } from "../config.js";
import { h } from "../dom.js";
import { display } from "./columns.js";
import { clone, countConditions, fillFilter, isGroup } from "./filterbuilder.js";
import { GroupTotals } from "./grouptotals.js";
import { menuButton } from "./menu.js";

const FORMULA_CHECK = "/api/fundraising/formula/check";
const LAYOUT_DEBOUNCE_MS = 500;
const TOTALS_MS = 1000;       // a window of rows' group totals are fetched again this long after the last edit
const MAX_SORTS = 10;
const ROW_HEIGHTS = { short: 36, medium: 56, tall: 88, extra_tall: 128 };
const ROW_HEIGHT_LABELS = { short: "Short", medium: "Medium", tall: "Tall", extra_tall: "Extra tall" };

const CLASS_OF = {
  text: "text", long_text: "text", email: "text", url: "text", phone: "text", last_modified_by: "text",
  number: "number", currency: "number", percent: "number", fund: "number",
  date: "date", created_time: "date", last_modified_time: "date",
  checkbox: "boolean", single_select: "select", multi_select: "multi", contacts: "contacts",
  relationship: "level",
};
const FORMULA_CLASS = { number: "number", text: "text", date: "date", boolean: "boolean", list: "multi" };
const SORT_LABELS = {
  text: ["A → Z", "Z → A"], number: ["1 → 9", "9 → 1"], date: ["Oldest first", "Newest first"],
  boolean: ["Unchecked first", "Checked first"], select: ["First → last option", "Last → first option"],
  multi: ["A → Z", "Z → A"], contacts: ["A → Z", "Z → A"], level: ["Coldest first", "Warmest first"],
};

let uid = 0;
const nextId = (prefix) => `${prefix}-${++uid}`;
const plural = (n, word) => `${n} ${word}${n === 1 ? "" : "s"}`;


/** The view tools for the toolbar: `{ tools, messages }` (the buttons; the status line their saves talk in). */
export function viewTools(grid) {
  const popovers = [];
  const drafts = new Map();         // view id -> {base, group}: the filter being built (kept while the popover is closed)
  const formulaKinds = new Map();   // `${column id}:${formula}` -> value class of its result
  const message = h("span.vt-message", { role: "status", "aria-live": "polite" });
  const lockBadge = h("span.vt-lock", { hidden: true, title: "Only its owner or an admin can change this view" }, "Locked");
  let messageTimer = null;

  function say(text, { error = false } = {}) {
    clearTimeout(messageTimer);
    message.textContent = text;
    message.dataset.kind = error ? "error" : "info";
    if (text) messageTimer = setTimeout(() => { message.textContent = ""; }, error ? 12000 : 4000);
  }

  // -- columns and config helpers ---------------------------------------------------

  const config = () => grid.view()?.config || {};
  const ids = () => new Set(grid.columns().map((c) => c.id));
  /** Columns in the view's order (as the grid lays them out: ordered ones first, the rest in grid order). */
  function orderedColumns() {
    const rank = new Map((config().order || []).map((id, i) => [id, i]));
    return [...grid.columns()].sort((a, b) => (rank.get(a.id) ?? 1e6) - (rank.get(b.id) ?? 1e6));
  }

  function kindOf(column) {
    if (!column) return "text";
    if (column.type === "formula") return formulaKinds.get(`${column.id}:${column.formula}`) || "text";
    return CLASS_OF[column.type] || "text";
  }

  async function loadFormulaKinds() {
    const missing = grid.columns().filter((c) => c.type === "formula" && !formulaKinds.has(`${c.id}:${c.formula}`));
    await Promise.all(missing.map(async (c) => {
      try {
        const r = await api("POST", FORMULA_CHECK, { formula: c.formula || "", column_id: c.id });
        formulaKinds.set(`${c.id}:${c.formula}`, (r.ok && FORMULA_CLASS[r.type]) || "text");
      } catch { formulaKinds.set(`${c.id}:${c.formula}`, "text"); }
    }));
  }

  /** The config without references to deleted columns (the server refuses those on save). */
  function pruned(cfg) {
    const known = ids();
    const prune = (group) => (isGroup(group)
      ? { ...group, conditions: group.conditions.filter((i) => isGroup(i) || known.has(i?.column_id)).map((i) => (isGroup(i) ? prune(i) : i)) }
      : group);
    const out = { ...cfg };
    if ("filters" in out) out.filters = prune(out.filters);
    if (Array.isArray(out.sorts)) out.sorts = out.sorts.filter((s) => known.has(s?.column_id));
    for (const key of ["hidden", "order"]) if (Array.isArray(out[key])) out[key] = out[key].filter((id) => known.has(id));
    if (out.widths) out.widths = Object.fromEntries(Object.entries(out.widths).filter(([id]) => known.has(id)));
    if (out.group_by && !known.has(out.group_by)) out.group_by = null;
    return out;
  }

  /** Save `patch` into the current view through the grid (rows reload through it). */
  let busy = 0;   // our own saves in flight: the viewChanged they cause is handled by the caller
  async function saveConfig(patch) {
    busy += 1;
    try {
      await flushLayout();
      if (!grid.view()) throw new Error("There is no view to save into.");
      await grid.updateView({ ...pruned(config()), ...patch });
    } finally { busy -= 1; }
  }

  // -- layout saved without reloading rows ---------------------------------------------

  const pendingLayout = new Set();  // ids of views whose in-memory config has unsaved layout
  let layoutTimer = null;

  function queueLayout(view = grid.view()) {
    if (!view) return;
    pendingLayout.add(view.id);
    clearTimeout(layoutTimer);
    layoutTimer = setTimeout(flushLayout, LAYOUT_DEBOUNCE_MS);
  }

  async function flushLayout() {
    clearTimeout(layoutTimer);
    // The view as the grid has it now: a save made meanwhile (e.g. from a column menu) included
    // our in-memory layout and replaced the object, so this never sends an older config.
    const list = [...pendingLayout].map((id) => grid.views().find((v) => v.id === id)).filter(Boolean);
    pendingLayout.clear();
    for (const view of list) {
      try {
        await api("PATCH", `${API.views}/${view.id}`, { config: pruned(view.config) });
      } catch (e) {
        say(`Layout not saved: ${e.message}`, { error: true });
      }
    }
  }

  grid.on("columnMoved", () => {
    const view = grid.view();
    if (!view || !grid.table) return;
    const order = grid.table.getColumns().map((c) => c.getField()).filter((f) => f && grid.column(f));
    view.config = { ...view.config, order };
    queueLayout(view);
  });

  grid.on("columnResized", (column) => {
    const view = grid.view();
    const field = column?.getField?.();
    if (!view || !field || !grid.column(field)) return;
    const width = Math.min(2000, Math.max(40, Math.round(column.getWidth())));
    view.config = { ...view.config, widths: { ...(view.config.widths || {}), [field]: width } };
    queueLayout(view);
  });

  // -- popovers ------------------------------------------------------------------------

  function closeAll(except) { for (const p of popovers) if (p !== except && p.isOpen()) p.close(); }

  /** A toolbar button with a panel under it; `fill(panel, pop)` (may be async) builds the panel on opening. */
  function popover(key, title, fill) {
    const panelId = nextId(`vt-${key}`);
    const button = h("button.vt-button", { type: "button", "aria-haspopup": "dialog",
      "aria-expanded": "false", "aria-controls": panelId, dataset: { viewTool: key } }, title);
    const panel = h("div.vt-popover", { id: panelId, role: "dialog", "aria-label": title, hidden: true, dataset: { viewPanel: key } });
    const anchor = h("span.vt-anchor", {}, button, panel);
    const outside = (event) => { if (!anchor.contains(event.target)) pop.close(); };
    // Escape also works when the focus fell to the page (e.g. the focused control was rebuilt).
    const escape = (event) => {
      if (event.key !== "Escape" || event.defaultPrevented || document.querySelector("dialog[open]")) return;
      if (document.activeElement === document.body || !document.activeElement) { event.preventDefault(); pop.close({ focus: true }); }
    };
    const pop = {
      key, button, panel, anchor,
      isOpen: () => !panel.hidden,
      async open() {
        closeAll(pop);
        panel.replaceChildren();
        panel.hidden = false;
        button.setAttribute("aria-expanded", "true");
        document.addEventListener("pointerdown", outside, true);
        document.addEventListener("keydown", escape);
        await fill(panel, pop);
        place(panel);
        pop.focusFirst();
      },
      close({ focus = false } = {}) {
        if (panel.hidden) return;
        panel.hidden = true;
        button.setAttribute("aria-expanded", "false");
        document.removeEventListener("pointerdown", outside, true);
        document.removeEventListener("keydown", escape);
        if (focus) button.focus();
      },
      /** Rebuild an open panel (after the view changed under it). */
      async refill() { if (pop.isOpen()) { panel.replaceChildren(); await fill(panel, pop); } },
      focusFirst() {
        panel.querySelector("[data-autofocus]:not([disabled]), input:not([disabled]), select:not([disabled]), button:not([disabled])")?.focus();
      },
    };
    button.addEventListener("click", () => (pop.isOpen() ? pop.close() : pop.open()));
    panel.addEventListener("keydown", (event) => {
      if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); pop.close({ focus: true }); }
    });
    popovers.push(pop);
    return pop;
  }

  function place(panel) {
    panel.style.left = "0px";
    const rect = panel.getBoundingClientRect();
    const overflow = rect.right - (window.innerWidth - 8);
    if (overflow > 0) panel.style.left = `${-Math.min(overflow, rect.left - 8)}px`;
  }

  /** Run `work` once at a time for `button`: marked busy, not disabled (disabling would drop the focus). */
  async function whileBusy(button, work) {
    if (button.getAttribute("aria-busy") === "true") return;
    button.setAttribute("aria-busy", "true");
    button.setAttribute("aria-disabled", "true");
    try { await work(); } finally { button.removeAttribute("aria-busy"); button.removeAttribute("aria-disabled"); }
  }

  function errorBox() { return h("div.vt-error", { role: "alert" }); }

  function showError(box, e) {
    box.textContent = e?.message || String(e);
  }

  // -- the view menu: new, rename, share, lock, delete ----------------------------------

  const viewMenu = menuButton({
    text: "⋯", label: "View options", title: "View options: new, rename, share, lock, delete", className: ".vt-button",
    dataset: { viewTool: "view-menu" }, menuDataset: { viewPanel: "view-menu" },
    onOpen: () => closeAll(viewMenu),
    entries: () => {
      const view = grid.view();
      const info = h("div.vt-menu-info", {}, view ? `${view.shared ? "Shared" : "Personal"} view${view.locked ? " · locked" : ""}` : "No view");
      const entries = [info, { label: "New view…", popup: "dialog", run: () => createViewDialog() }];
      if (!view) return entries;
      entries.push(
        { label: "Rename view…", popup: "dialog", run: () => renameViewDialog(view) },
        { label: view.shared ? "Make personal" : "Share with everyone", run: () => patchView(view, { shared: !view.shared }) },
      );
      if (view.shared) entries.push({ label: view.locked ? "Unlock view" : "Lock view", run: () => patchView(view, { locked: !view.locked }) });
      entries.push({ label: "Delete view…", popup: "dialog", run: () => deleteViewDialog(view) });
      return entries;
    },
  });
  popovers.push(viewMenu);

  async function switchTo(id) {
    const list = await api("GET", API.views);
    await grid.setViews(list, id);
  }

  async function patchView(view, patch) {
    try {
      await flushLayout();
      const saved = await api("PATCH", `${API.views}/${view.id}`, patch);
      await switchTo(saved.id);
      say(patch.shared !== undefined ? (saved.shared ? "Shared with everyone" : "Now a personal view")
        : patch.locked !== undefined ? (saved.locked ? "View locked" : "View unlocked") : "View saved");
    } catch (e) {
      say(e.message, { error: true });
    }
  }

  function modal(title, body, actions, { onSubmit }) {
    const titleId = nextId("vt-modal-title");
    const form = h("form", {}, h("h2", { id: titleId }, title), body, h("div.actions", {}, actions));
    const dialog = h("dialog.modal.vt-modal", { "aria-labelledby": titleId }, form);
    document.body.append(dialog);
    dialog.addEventListener("close", () => dialog.remove());
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const submit = form.querySelector("button[type=submit]");
      await whileBusy(submit, async () => { if (await onSubmit() !== false) dialog.close(); });
    });
    dialog.showModal();
    return dialog;
  }

  const cancelButton = () => h("button", { type: "button", onclick: (e) => e.target.closest("dialog").close() }, "Cancel");

  function createViewDialog() {
    const name = h("input", { name: "name", required: true, maxlength: 120, autocomplete: "off", placeholder: "e.g. My pipeline" });
    const personal = h("input", { type: "radio", name: "visibility", value: "personal", checked: true });
    const shared = h("input", { type: "radio", name: "visibility", value: "shared" });
    const copy = h("input", { type: "checkbox", name: "copy" });
    const error = errorBox();
    const dialog = modal("New view", [
      h("label", {}, "Name", name),
      h("fieldset.vt-fieldset", {}, h("legend", {}, "Who can see it"),
        h("label.vt-inline", {}, personal, " Personal: only you"),
        h("label.vt-inline", {}, shared, " Shared: everyone")),
      grid.view() ? h("label.vt-inline", {}, copy, ` Start from “${grid.view().name}” (filters, sorts, layout)`) : null,
      error,
    ], [cancelButton(), h("button.primary", { type: "submit" }, "Create view")], {
      async onSubmit() {
        if (!name.value.trim()) { error.textContent = "A view needs a name."; return false; }
        try {
          await flushLayout();
          const body = { name: name.value.trim(), shared: shared.checked, config: copy.checked ? pruned(clone(config())) : {} };
          const created = await api("POST", API.views, body);
          await switchTo(created.id);
          say(`Created “${created.name}”`);
          return true;
        } catch (e) { showError(error, e); return false; }
      },
    });
    dialog.dataset.viewDialog = "create";
    name.focus();
  }

  function renameViewDialog(view) {
    const name = h("input", { name: "name", required: true, maxlength: 120, autocomplete: "off", value: view.name });
    const error = errorBox();
    const dialog = modal("Rename view", [h("label", {}, "Name", name), error],
      [cancelButton(), h("button.primary", { type: "submit" }, "Rename")], {
        async onSubmit() {
          if (!name.value.trim()) { error.textContent = "A view needs a name."; return false; }
          try {
            await flushLayout();
            const saved = await api("PATCH", `${API.views}/${view.id}`, { name: name.value.trim() });
            await switchTo(saved.id);
            return true;
          } catch (e) { showError(error, e); return false; }
        },
      });
    dialog.dataset.viewDialog = "rename";
    name.select();
  }

  function deleteViewDialog(view) {
    const error = errorBox();
    const dialog = modal("Delete view", [
      h("p", {}, `Delete “${view.name}”? ${view.shared ? "Everyone loses this shared view." : "This personal view is removed."} Rows are not affected.`),
      error,
    ], [cancelButton(), h("button.primary.danger", { type: "submit" }, "Delete view")], {
      async onSubmit() {
        try {
          pendingLayout.delete(view.id);
          await api("DELETE", `${API.views}/${view.id}`);
          drafts.delete(view.id);
          const list = await api("GET", API.views);
          await grid.setViews(list, list[0]?.id);
          say(`Deleted “${view.name}”`);
          return true;
        } catch (e) { showError(error, e); return false; }
      },
    });
    dialog.dataset.viewDialog = "delete";
    dialog.querySelector("button[type=submit]").focus();
  }

  // -- filter builder (filterbuilder.js) ----------------------------------------------

  const filterPop = popover("filter", "Filter", (panel, pop) => fillFilter(panel, pop, {
    grid, drafts, kindOf, loadFormulaKinds, whileBusy, saveConfig, errorBox, showError,
    onSaved: (draft) => say(`Filter saved: ${plural(countConditions(draft), "condition")}`),
  }));

  // -- sorts -------------------------------------------------------------------------

  const sortPop = popover("sort", "Sort", async (panel, pop) => {
    await loadFormulaKinds();
    const view = grid.view();
    if (!view) { panel.append(h("p.vt-empty", {}, "No view selected.")); return; }
    const draft = clone(view.config.sorts || []);
    const list = h("ol.vt-sorts", { "aria-label": "Sort levels" });
    const error = errorBox();
    const add = h("button.vt-link", { type: "button", dataset: { action: "add-sort" } }, "+ Add another sort");
    const apply = h("button.primary", { type: "button", dataset: { action: "save-sort" } }, "Save sort");

    function render(focusIndex, focusWhat = "select") {
      list.replaceChildren(...draft.map((spec, i) => {
        const column = grid.column(spec.column_id);
        const labels = SORT_LABELS[kindOf(column)] || SORT_LABELS.text;
        const columnSelect = h("select", { "aria-label": `Sort level ${i + 1}: field`, dataset: { role: "sort-column" } },
          column ? null : h("option", { value: spec.column_id, selected: true }, "(deleted field)"),
          grid.columns().map((c) => h("option", { value: c.id, selected: c.id === spec.column_id,
            disabled: c.id !== spec.column_id && draft.some((s) => s.column_id === c.id) }, c.name)));
        columnSelect.addEventListener("change", () => { spec.column_id = columnSelect.value; render(i); });
        const direction = h("select", { "aria-label": `Sort level ${i + 1}: direction`, dataset: { role: "sort-direction" } },
          h("option", { value: "asc", selected: spec.direction !== "desc" }, labels[0]),
          h("option", { value: "desc", selected: spec.direction === "desc" }, labels[1]));
        direction.addEventListener("change", () => { spec.direction = direction.value; });
        const move = (delta, label, text) => h("button.vt-icon", { type: "button", "aria-label": `${label} sort level ${i + 1}`,
          title: label, disabled: !draft[i + delta], dataset: { action: delta < 0 ? "sort-up" : "sort-down" },
          onclick: () => { [draft[i], draft[i + delta]] = [draft[i + delta], draft[i]]; render(i + delta, `[data-action=${delta < 0 ? "sort-up" : "sort-down"}]`); } }, text);
        const remove = h("button.vt-icon", { type: "button", "aria-label": `Remove sort level ${i + 1}`, title: "Remove",
          dataset: { action: "remove-sort" }, onclick: () => { draft.splice(i, 1); render(Math.min(i, draft.length - 1)); } }, "×");
        return h("li.vt-sort", { dataset: { index: String(i) } }, h("span.vt-lead", {}, i === 0 ? "Sort by" : "then by"),
          columnSelect, direction, move(-1, "Move up", "↑"), move(1, "Move down", "↓"), remove);
      }));
      if (!draft.length) list.append(h("li.vt-empty", {}, "No sorts: rows keep the grid's order."));
      add.disabled = draft.length >= MAX_SORTS;
      if (focusIndex !== undefined && focusIndex >= 0) list.querySelector(`[data-index="${focusIndex}"] ${focusWhat}`)?.focus();
      else if (focusIndex !== undefined) add.focus();
    }

    add.addEventListener("click", () => {
      const used = new Set(draft.map((s) => s.column_id));
      const column = grid.columns().find((c) => !used.has(c.id));
      if (!column) return;
      draft.push({ column_id: column.id, direction: "asc" });
      render(draft.length - 1);
    });
    apply.addEventListener("click", () => whileBusy(apply, async () => {
      error.textContent = "";
      try {
        await saveConfig({ sorts: clone(draft) });
        pop.close({ focus: true });
        say(draft.length ? `Sorted by ${plural(draft.length, "field")}` : "Sort removed");
      } catch (e) { showError(error, e); }
    }));
    render();
    panel.append(h("h3.vt-title", {}, "Sort"), list, h("div.vt-factions", {}, add), error,
      h("div.vt-foot", {}, h("button", { type: "button", onclick: () => pop.close({ focus: true }) }, "Cancel"), apply));
  });

  // -- group by ------------------------------------------------------------------------

  const groupPop = popover("group", "Group", (panel, pop) => {
    const view = grid.view();
    if (!view) { panel.append(h("p.vt-empty", {}, "No view selected.")); return; }
    const error = errorBox();
    const select = h("select", { "aria-label": "Group by field", dataset: { role: "group-by" }, "data-autofocus": true },
      h("option", { value: "", selected: !view.config.group_by }, "No grouping"),
      grid.columns().map((c) => h("option", { value: c.id, selected: c.id === view.config.group_by }, c.name)));
    select.addEventListener("change", async () => {
      error.textContent = "";
      select.disabled = true;
      try {
        await saveConfig({ group_by: select.value || null });
        say(select.value ? `Grouped by ${grid.column(select.value)?.name}` : "Grouping removed");
        await pop.refill();
        pop.focusFirst();
      } catch (e) { showError(error, e); select.disabled = false; select.focus(); }
    });
    const all = (show) => () => setAllGroups(show);
    panel.append(h("h3.vt-title", {}, "Group"), h("label.vt-row", {}, "Group by ", select), error,
      h("div.vt-foot", {},
        h("button", { type: "button", disabled: !view.config.group_by, onclick: all(false) }, "Collapse all"),
        h("button", { type: "button", disabled: !view.config.group_by, onclick: all(true) }, "Expand all")));
  });

  // -- hide fields -------------------------------------------------------------------

  function setHidden(columnIds, hide) {
    const view = grid.view();
    if (!view) return;
    const hidden = new Set(view.config.hidden || []);
    for (const id of columnIds) if (hide) hidden.add(id); else hidden.delete(id);
    // One field always stays visible (the first in the view's order), as the column menu does.
    const visible = grid.columns().filter((c) => !hidden.has(c.id));
    if (!visible.length) {
      hidden.delete(orderedColumns()[0]?.id);
      if (columnIds.length === 1) say("The last visible field cannot be hidden", { error: true });
    }
    keepFocus(() => {
      for (const column of grid.columns()) {
        const col = grid.table?.getColumn(column.id);
        if (!col || col.isVisible() === !hidden.has(column.id)) continue;
        if (hidden.has(column.id)) col.hide(); else col.show();
      }
    });
    view.config = { ...view.config, hidden: grid.columns().map((c) => c.id).filter((id) => hidden.has(id)) };
    queueLayout(view);
    refresh();
    refreshGroups();
  }

  const hidePop = popover("hide", "Hide fields", (panel) => {
    const view = grid.view();
    if (!view) { panel.append(h("p.vt-empty", {}, "No view selected.")); return; }
    const find = h("input", { type: "search", placeholder: "Find a field", "aria-label": "Find a field", autocomplete: "off" });
    const list = h("ul.vt-fields", { "aria-label": "Fields shown in this view" });
    const render = () => {
      const hidden = new Set(grid.view()?.config.hidden || []);
      const q = find.value.trim().toLowerCase();
      list.replaceChildren(...orderedColumns().filter((c) => !q || c.name.toLowerCase().includes(q)).map((c) => {
        const box = h("input", { type: "checkbox", checked: !hidden.has(c.id), dataset: { columnId: c.id } });
        box.addEventListener("change", () => { setHidden([c.id], !box.checked); sync(); });
        return h("li", {}, h("label.vt-inline", {}, box, " ", c.name));
      }));
    };
    const sync = () => {
      const hidden = new Set(grid.view()?.config.hidden || []);
      for (const box of list.querySelectorAll("input[data-column-id]")) box.checked = !hidden.has(box.dataset.columnId);
    };
    find.addEventListener("input", render);
    render();
    const all = (hide) => () => { setHidden(grid.columns().map((c) => c.id), hide); sync(); };
    panel.append(h("h3.vt-title", {}, "Fields"), find, list,
      h("div.vt-foot", {}, h("button", { type: "button", onclick: all(true) }, "Hide all"), h("button", { type: "button", onclick: all(false) }, "Show all")));
  });

  // -- layout: frozen columns, row height ------------------------------------------

  const layoutPop = popover("layout", "Layout", (panel, pop) => {
    const view = grid.view();
    if (!view) { panel.append(h("p.vt-empty", {}, "No view selected.")); return; }
    const error = errorBox();
    const current = view.config.frozen ?? 1;
    const frozen = h("select", { "aria-label": "Frozen columns", dataset: { role: "frozen" } },
      Array.from({ length: 11 }, (_, n) => h("option", { value: String(n), selected: n === current }, n === 0 ? "None" : String(n))));
    frozen.addEventListener("change", async () => {
      error.textContent = "";
      frozen.disabled = true;
      try {
        await saveConfig({ frozen: Number(frozen.value) });
        say(`${Number(frozen.value) ? plural(Number(frozen.value), "column") : "No columns"} frozen`);
        await pop.refill();
        pop.focusFirst();
      } catch (e) { showError(error, e); frozen.disabled = false; frozen.focus(); }
    });
    const height = view.config.row_height || "short";
    const name = nextId("vt-row-height");
    const radios = h("fieldset.vt-fieldset", { dataset: { role: "row-height" } }, h("legend", {}, "Row height"),
      Object.keys(ROW_HEIGHTS).map((key) => {
        const radio = h("input", { type: "radio", name, value: key, checked: key === height });
        radio.addEventListener("change", () => {
          if (!radio.checked) return;
          view.config = { ...view.config, row_height: key };
          applyRowHeight();
          queueLayout(view);
        });
        return h("label.vt-inline", {}, radio, " ", ROW_HEIGHT_LABELS[key]);
      }));
    panel.append(h("h3.vt-title", {}, "Layout"), h("label.vt-row", {}, "Frozen columns ", frozen), radios, error);
  });

  // -- what the table shows: groups and row height ------------------------------------

  let appliedGroup;   // column id the table is grouped by (undefined: not applied yet)

  /** Tabulator focuses its table body when it redraws; keep the focus where the user was (a popover). */
  function keepFocus(run) {
    const active = document.activeElement;
    run();
    if (active && active !== document.body && active.isConnected && document.activeElement !== active &&
        !grid.table?.element.contains(active)) active.focus({ preventScroll: true });
  }

  function applyRowHeight() {
    const table = grid.table;
    if (!table) return;
    const key = ROW_HEIGHTS[config().row_height] ? config().row_height : "short";
    table.element.dataset.rowHeight = key;
    const px = ROW_HEIGHTS[key];
    if (table.options.rowHeight === px) return;
    table.options.rowHeight = px;
    keepFocus(() => {
      for (const row of table.getRows()) row.reformat();
      table.redraw(true);
    });
  }

  function groupKey(column) {
    return (data) => {
      const value = data[column.id];
      if (column.type === "checkbox") return value ? "Checked" : "Unchecked";
      if (column.type === "relationship") return value ? `Level ${value.level}` : "";  // the server groups by level too
      return display(column, value);
    };
  }

  function groupHeader(value, count, data, group) {
    const column = grid.column(appliedGroup);
    const hidden = new Set(config().hidden || []);
    const rows = (data || []).map((d) => (typeof d?.getData === "function" ? d.getData() : d));
    const funds = grid.columns().filter((c) => c.type === "fund" && !hidden.has(c.id));
    const open = typeof group?.isVisible === "function" ? group.isVisible() : true;
    const totals = serverTotals()?.get(value);  // a window of rows: most rows' cells are not in the table
    let label;
    if (value === "" || value === undefined || value === null) label = h("span.vt-group-empty", {}, "(empty)");
    else if (column?.type === "single_select") {
      label = h("span.pill", {}, value);
      const color = column.options?.find((o) => o.name === value)?.color;
      if (color) label.style.backgroundColor = color;
    } else label = h("span.vt-group-value", {}, value);
    const toggle = h("button.vt-group-toggle", { type: "button", "aria-expanded": String(open),
      "aria-label": `${open ? "Collapse" : "Expand"} group ${value || "(empty)"}` }, column?.name || "Group");
    toggle.addEventListener("click", (event) => {
      event.stopPropagation();
      group?.toggle?.();
      // The virtual renderer rebuilds the group headers: focus the new header's toggle.
      requestAnimationFrame(() => {
        const again = grid.table?.element.querySelector(`.vt-group[data-group-key="${CSS.escape(String(value ?? ""))}"] .vt-group-toggle`);
        (again || toggle).focus({ preventScroll: true });
      });
    });
    return h("div.vt-group", { dataset: { groupKey: String(value ?? "") } }, toggle, label,
      h("span.vt-group-count", {}, plural(count, "investor")),
      funds.map((f) => {
        const sum = totals ? totals.sums[f.id] ?? 0 : rows.reduce((s, r) => (typeof r?.[f.id] === "number" ? s + r[f.id] : s), 0);
        return h("span.vt-group-sum", { dataset: { columnId: f.id, sum: String(sum) } }, h("span.vt-muted", {}, `${f.name} `), display(f, sum));
      }));
  }

  // A window of rows' groups: the server's totals, paired with the table's groups once per listing,
  // fetched again a while after the grid changes (a header regenerated meanwhile shows the totals before them).
  let paired = null, pairedFor = null, totalsTimer = null;
  function serverTotals() {
    const groups = grid.groupTotals?.();
    const column = grid.column(appliedGroup);
    if (!groups || !column) return null;
    if (pairedFor !== groups) {
      const keyOf = groupKey(column);
      paired = new GroupTotals(groups.list, groups.values, (value) => keyOf({ [column.id]: value }));
      pairedFor = groups;
    }
    return paired.ok ? paired : null;
  }
  function refetchTotals() {
    if (!serverTotals()) return;
    clearTimeout(totalsTimer);
    totalsTimer = setTimeout(async () => {
      const was = pairedFor;
      let list;
      try { list = await grid.fetchGroups(); } catch { return; }  // offline: the totals before stay
      if (pairedFor !== was || !paired) return;  // another listing meanwhile
      paired.update(list);
      for (const group of grid.table?.getGroups?.() || []) group._group?.generateGroupHeaderContents?.();
    }, TOTALS_MS);
  }

  /** Collapse or expand every group with one redraw (Group.show/hide redraw the table each). */
  function setAllGroups(show) {
    const table = grid.table;
    const groups = table?.modules?.groupRows;
    keepFocus(() => {
      if (groups?.groupList && typeof groups.updateGroupRows === "function") {
        for (const group of groups.groupList) group.visible = show;
        groups.updateGroupRows(true);
      } else {
        for (const group of table?.getGroups?.() || []) (show ? group.show() : group.hide());
      }
    });
  }

  function applyGroup(force = false) {
    const table = grid.table;
    if (!table) return;
    const wanted = grid.column(config().group_by) ? config().group_by : null;
    if (!force && wanted === (appliedGroup ?? null) && appliedGroup !== undefined) return;
    appliedGroup = wanted;
    keepFocus(() => {
      if (wanted) {
        table.options.groupHeader = groupHeader;
        table.setGroupBy(groupKey(grid.column(wanted)));
      } else if (table.options.groupBy) {
        table.setGroupBy(false);
      }
    });
  }

  /** After edits: sums in the touched groups' headers; a change of the grouped field regroups. */
  const touched = new Set();
  let groupTimer = null;
  function noteEdit(row, field) {
    if (!appliedGroup) return;
    if (field === appliedGroup) { touched.add("*"); } else touched.add(row);
    clearTimeout(groupTimer);
    groupTimer = setTimeout(refreshGroups, 150);
  }
  function refreshGroups() {
    const table = grid.table;
    if (!table || !appliedGroup) { touched.clear(); return; }
    const column = grid.column(appliedGroup);
    const all = touched.has("*") || touched.size === 0 ||
      [...touched].some((row) => row !== "*" && column && row.getGroup?.()?.getKey?.() !== groupKey(column)(row.getData()));
    if (all) { touched.clear(); applyGroup(true); return; }
    const groups = new Set([...touched].map((row) => row.getGroup?.()).filter(Boolean));
    touched.clear();
    for (const group of groups) group._group?.generateGroupHeaderContents?.();
  }

  let tableHooked = false;
  function hookTable() {
    const table = grid.table;
    if (!table || tableHooked) return;
    tableHooked = true;
    table.on("cellEdited", (cell) => noteEdit(cell.getRow(), cell.getField()));
    table.on("rowUpdated", (row) => noteEdit(row, null));
  }

  function applyDisplay() {
    hookTable();
    applyRowHeight();
    applyGroup();
  }

  // -- button labels -------------------------------------------------------------------

  function refresh() {
    const view = grid.view();
    const cfg = config();
    const known = ids();
    const n = countConditions(cfg.filters);
    const sorts = (cfg.sorts || []).filter((s) => known.has(s.column_id)).length;
    const hidden = (cfg.hidden || []).filter((id) => known.has(id)).length;
    const grouped = grid.column(cfg.group_by);
    const label = (pop, text, active) => {
      pop.button.textContent = text;
      pop.button.dataset.active = active ? "1" : "0";
      pop.button.disabled = !view;
    };
    label(filterPop, n ? `Filter (${n})` : "Filter", n > 0);
    label(sortPop, sorts ? `Sort (${sorts})` : "Sort", sorts > 0);
    label(groupPop, grouped ? `Group: ${grouped.name}` : "Group", Boolean(grouped));
    if (grouped) groupPop.button.title = `Grouped by ${grouped.name}`;  // a long name is cut short on the button
    else groupPop.button.removeAttribute("title");
    label(hidePop, hidden ? `Hide fields (${hidden})` : "Hide fields", hidden > 0);
    label(layoutPop, "Layout", false);
    lockBadge.hidden = !(view?.shared && view?.locked);
  }

  grid.on("tableBuilt", () => { applyDisplay(); refresh(); });
  grid.on("windowChanged", () => { if (appliedGroup) refetchTotals(); });
  grid.on("rowsLoaded", () => {
    applyDisplay();
    refresh();
    if (serverTotals()) for (const group of grid.table?.getGroups?.() || []) group._group?.generateGroupHeaderContents?.();
  });
  grid.on("viewChanged", () => {
    applyDisplay();
    refresh();
    // Another view (or someone else's change): open panels show the view as it now is.
    if (!busy) for (const p of popovers) if (p.isOpen() && p !== viewMenu) p.refill();
  });

  refresh();
  return {
    tools: [viewMenu.anchor, lockBadge, filterPop.anchor, sortPop.anchor, groupPop.anchor, hidePop.anchor, layoutPop.anchor],
    messages: [message],
  };
}
