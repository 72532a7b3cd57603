// The fundraising grid: Tabulator over the server's rows, edits saved as ops,
// other people's edits applied live from the event stream.
import { Tabulator, findRow, updateRowData } from "../widgets/tabulator.js";
import { api } from "../api.js";
import { API, STORAGE } from "../config.js";
import { h } from "../dom.js";
import { READ_ONLY, definition, isNumeric, onEditorMove, parse, seedEditor } from "../widgets/columns.js";
import { columnMenu, columnMenuButton } from "../widgets/columnmenu.js";
import { menuButton } from "../widgets/menu.js";
import { cellText, parseTsv, toTsv } from "../widgets/clipboard.js";
import { rowMenu, rowTools } from "../widgets/rowmenu.js";
import { liveDot, saveStatus } from "../widgets/linkstatus.js";
import { presence } from "../widgets/presence.js";
import { fromFull } from "../widgets/rowpages.js";
import { rowSource } from "../widgets/rowsource.js";
import { SaveQueue } from "../widgets/savequeue.js";
import { transferTools } from "../widgets/transfer.js";
import { sameValue, undoHistory } from "../widgets/undo.js";
import { unfitValues } from "../widgets/unfit.js";
import { viewTools } from "../widgets/viewtools.js";
import { later } from "../lazy.js";

// Not needed for the first rows: fetched on first use, or when the browser is idle after the first page (lazy.js).
const dialogs = later(() => import("../widgets/dialogs.js"));
const drawer = later(() => import("../widgets/drawer.js"));
const events = later(() => import("../widgets/events.js"));
const fill = later(() => import("../widgets/fillhandle.js"));

export function mount(root, { me }) {
  const statusLine = saveStatus();
  const live = liveDot();
  const viewSelect = h("select", { id: "view-select", "aria-label": "View" });
  const search = h("input", { id: "grid-search", type: "search", placeholder: "Search", "aria-label": "Search investors", autocomplete: "off" });
  const count = h("span.count", { "aria-live": "polite" });
  const addRow = h("button", { type: "button", dataset: { action: "add-row" } }, "+ Add investor");
  const gridEl = h("div", { id: "grid", role: "grid", "aria-label": "Fundraising grid" });
  const notice = h("span.notice", { role: "alert" });
  // One line at 1280 px (app.css): the view picker and the view tools as one group, search, "+ Add investor",
  // then "More" for what is done now and then (add a column, archived rows, import, export); the
  // widgets' messages take the room that is left (cut short rather than push the rest onto a second line).
  const viewGroup = h("div.view-tools", { role: "group", "aria-label": "View tools" },
    h("label.view-picker", {}, h("span.sr-only", {}, "View"), viewSelect));
  const moreEntries = [];  // the widgets' entries, once `grid` exists
  const more = menuButton({ text: "More", label: "More actions", className: ".more-button", dataset: { action: "more" },
    entries: () => [{ label: "Add column…", name: "add-column", popup: "dialog", run: () => addColumn() }, ...moreEntries] });
  const messages = h("div.toolbar-messages", {}, notice);
  const toolbar = h("div.toolbar", { role: "toolbar", "aria-label": "Grid tools" },
    viewGroup, search, addRow, more.anchor, messages, count, live.el, statusLine.el);
  root.replaceChildren(toolbar, h("div.grid-wrap", {}, gridEl));
  root.classList.add("grid-page");
  const presenceEl = document.querySelector(".topbar .presence");

  let columns = [];               // the grid's columns as the API gives them
  let columnsById = new Map();
  let views = [];
  let view = null;
  let table = null;
  let closeEvents = null;
  let streamSeen = 0;    // the newest version the event stream has told of
  let stopped = false;
  let counted = null;             // the view's total while its other pages are on their way
  const refusals = new WeakMap();  // op → the server's error, when it refused the request

  const queue = new SaveQueue(0, {
    status: setStatus,
    applied: (result, ops) => {
      for (const [rowId, cells] of Object.entries(result.rows || {})) updateRow(rowId, cells, { keepPending: true });
      // Text the server read (an amount typed as "1.5m") for a cell it left as it was: show the stored value.
      for (const rowId of new Set(ops.filter((o) => o.op === "set_cell" && typeof o.value === "string" && !result.rows?.[o.row_id]
        && isNumeric(columnsById.get(o.column_id) || {})).map((o) => o.row_id))) refreshRow(rowId);
      if (result.needsColumns) reloadColumns();
    },
    conflict: (ops, payload) => dialogs.get().then((d) => d.conflictDialog(payload.conflicts, columnsById, ops)).then((choice) => {
      if (choice === "theirs") for (const c of payload.conflicts) updateRow(c.row_id, { [c.column_id]: c.current_value });
      return choice;
    }),
    unfit: (items, error) => unfit.named(items, error),
    rejected: (ops, error) => {
      for (const op of ops) refusals.set(op, error);  // for grid.send's answer
      tell(`Not saved: ${error.message}`);
      // The server refused these edits: show the server's values again.
      for (const rowId of new Set(ops.map((o) => o.row_id).filter(Boolean))) refreshRow(rowId);
      if (ops.some((o) => o.op !== "set_cell")) reloadColumns();
    },
  });

  // What the widgets (view tools, menus, drawer, import/export) may use of the grid.
  const listeners = {};
  const grid = {
    me,
    get table() { return table; },
    columns: () => columns,
    column: (id) => columnsById.get(id),
    views: () => views,
    view: () => view,
    queue,
    /** Send ops now and wait until the server has them; resolves to null, or the server's error if it refused them (422…). */
    async send(...ops) { for (const op of ops) queue.push(op, { now: true }); await waitForQueue(); return ops.map((op) => refusals.get(op)).find(Boolean) || null; },
    reloadColumns: () => reloadColumns(),
    reload: () => reload(),
    refreshRow: (id) => refreshRow(id),
    rowOf: (id) => rowOf(id),
    /** A window of rows' server groups ({list, values}: grouptotals.js), or null; and the view's groups fetched again. */
    groupTotals: () => source.window?.groups || null,
    fetchGroups: () => source.groups(),
    setViews: (list, currentId) => setViews(list, currentId),
    /** Save `patch` into the current view's config (PATCH /views/{id}); the grid then shows it. */
    async updateView(patch) {
      if (!view) return;
      const saved = await api("PATCH", `${API.views}/${view.id}`, { config: { ...view.config, ...patch } });
      await setViews(views.map((v) => (v.id === saved.id ? saved : v)), saved.id);
    },
    openRow: (id) => drawer.get().then((d) => d.openDrawer(grid, id)),
    /** Run `fn`, whose cell edits (through `record`) then undo and redo as one step. */
    act: (fn) => act(fn),
    /** Run `fn` once the cells of `rows` (components) are in the table: a window of rows fetches them first. */
    withRows: (rows, fn) => withRows(rows, fn),
    tell: (message) => tell(message),
    record: (...args) => record(...args),
    search: () => search.value.trim(),
    on(name, fn) { (listeners[name] ||= []).push(fn); },
    emit(name, ...args) { for (const fn of listeners[name] || []) fn(...args); },
  };

  let noticeTimer = null;
  /** A short message beside the save status (role=alert), gone after a while. */
  function tell(message) {
    notice.textContent = message;
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => { notice.textContent = ""; }, 10000);
  }

  function setCount() {
    const n = counted ?? (table ? table.getDataCount() : 0);
    count.textContent = `${n} investor${n === 1 ? "" : "s"}`;
  }

  function setStatus(state, detail) { statusLine.set(state, detail); }

  // -- loading --------------------------------------------------------------------

  const source = rowSource(gridEl, {
    table: () => table,
    build: (rows) => buildTable(rows),
    params: () => {
      const params = new URLSearchParams();
      if (view) params.set("view_id", view.id);
      if (search.value.trim()) params.set("q", search.value.trim());
      return params;
    },
    editing: () => Boolean(table?.modules.edit?.currentCell),
    seen: (version) => queue.seen(version),
    count: (total) => { counted = total; setCount(); },
    fill: (row, cells) => updateRow(row, cells, { keepPending: true }),
    stopped: () => stopped,
    loaded: () => grid.emit("rowsLoaded"),
  });
  const rowsIn = () => source.rowsIn();

  function columnDefs() {
    const config = view?.config || {};
    const order = config.order || [];
    const rank = new Map(order.map((id, i) => [id, i]));
    const ordered = [...columns].sort((a, b) => (rank.get(a.id) ?? 1e6 + columns.indexOf(a)) - (rank.get(b.id) ?? 1e6 + columns.indexOf(b)));
    const hidden = new Set(config.hidden || []);
    const frozen = Math.max(0, config.frozen ?? 1);
    let visibleIndex = 0;
    return ordered.map((column) => {
      const isHidden = hidden.has(column.id);
      const def = definition(column, {
        width: config.widths?.[column.id] || (!isHidden && visibleIndex === 0 ? 220 : undefined),
        frozen: !isHidden && visibleIndex < frozen,
        hidden: isHidden,
        editable: (cell) => !lockedByOther(cell),
      });
      if (!isHidden) visibleIndex += 1;
      unfit.mark(def);
      if (column.type === "checkbox") def.cellClick = (e, cell) => { if (!e.shiftKey && !e.ctrlKey && !e.metaKey) toggleChecks([cell]); };
      def.headerMenu = () => columnMenu(grid, column.id);
      def.headerMenuIcon = () => columnMenuButton(column);
      return def;
    });
  }

  function setColumns(list) {
    columns = list;
    columnsById = new Map(columns.map((c) => [c.id, c]));
  }

  async function start() {
    const state = await api("GET", `${API.state}?rows=0`);
    if (stopped) return;
    setColumns(state.grid.columns);
    views = state.views;
    queue.seen(state.version);
    const wanted = new URLSearchParams(location.search).get("view");
    view = views.find((v) => v.id === wanted) || views[0] || null;
    if (views[0]) localStorage.setItem(STORAGE.firstView, views[0].id); else localStorage.removeItem(STORAGE.firstView);
    renderViewSelect();
    for (const part of [viewTools(grid), rowTools(grid), transferTools(grid)]) {
      viewGroup.append(...(part.tools || []));
      if (part.more?.length) moreEntries.push("separator", ...part.more);
      messages.append(...(part.messages || []));
    }
    // The first page is drawn, and usable, before the other pages are in.
    const page = await source.load();
    if (!page) return;
    // Edits made before a sign-out or reload: show them, then send them.
    showUnsaved();
    queue.flush();
    // Every row is in the table: the stream replays what changed since the first page.
    streamSeen = page.version;
    heartbeat();
    const { openEvents } = await events.get();
    if (stopped) return;
    closeEvents = openEvents(page.version, { onEvent, onState: live.set });
  }

  function buildTable(rows) {
    table = new Tabulator(gridEl, {
      data: rows,
      index: "id",
      columns: columnDefs(),
      height: "100%",
      layout: "fitData",
      renderVertical: "virtual",
      renderHorizontal: "virtual",
      renderVerticalBuffer: 200,
      rowHeight: 36,
      placeholder: "No investors in this view",
      movableColumns: true,
      rowHeader: { formatter: "rownum", headerSort: false, hozAlign: "right", resizable: false, frozen: true, width: 52, cssClass: "row-number",
        cellClick: (e, cell) => grid.openRow(cell.getRow().getIndex()) },
      rowContextMenu: (e, row) => rowMenu(grid, row),
      selectableRange: 1,
      selectableRangeColumns: true,
      selectableRangeRows: true,
      selectableRangeClearCells: false,  // Delete and Backspace are ours (clearRange): one undo step for the range
      editTriggerEvent: "dblclick",
      // No clipboard module: copy and paste are ours (copyRange, pasteClipboard). Tabulator's TSV does not
      // quote cells holding tabs or line breaks, and it hears a paste only when the event lands on the table.
    });
    const built = new Promise((resolve) => table.on("tableBuilt", resolve));
    table.on("tableBuilt", () => {
      gridEl.querySelector(".tabulator-tableholder")?.setAttribute("role", "rowgroup");
      gridEl.querySelector(".tabulator-table")?.setAttribute("role", "presentation");  // so the rows are the rowgroup's own
      const builtTable = table;
      fill.get().then((f) => { if (!stopped && grid.table === builtTable) f.fillHandle(grid, record); });
      grid.emit("tableBuilt");
    });
    table.on("columnMoved", (column, order) => grid.emit("columnMoved", column, order));
    table.on("columnResized", (column) => grid.emit("columnResized", column));
    table.on("cellEdited", (cell) => {
      const column = columnsById.get(cell.getField());
      if (!column) return;
      const before = cell.getOldValue();
      if (READ_ONLY.has(column.type)) { cell.getRow().update({ [column.id]: before }); return; }
      let value = cell.getValue();
      if (typeof value === "string" || value === undefined) {
        const parsed = parse(column, value ?? null);
        if (parsed.error) { cell.getRow().update({ [column.id]: before }); return; }
        value = parsed.value;
      }
      if (value !== cell.getValue()) cell.getRow().update({ [column.id]: value });
      if (sameValue(before, value)) return;
      record(cell.getRow().getIndex(), column.id, before, value, { byTyping: true });
    });
    table.on("cellEditing", (cell) => heartbeat(cell, true));
    table.on("cellEditCancelled", (cell) => heartbeat(cell, false));
    table.on("cellEdited", () => heartbeat(activeCell(), editingActive()));  // the lock ends with the edit
    // Opening an editor moves the range too: that must not clear the "editing" just announced.
    table.on("rangeChanged", () => heartbeat(activeCell(), editingActive()));
    // The window of rows fetches a selected range's rows ahead, for a copy (a sync event) to find them there.
    for (const name of ["rangeAdded", "rangeChanged"]) table.on(name, () => source.window?.select(() => table.getRanges()[0]?.getRows() || []));
    gridEl.addEventListener("keydown", onKeyDown, true);
    gridEl.addEventListener("mousedown", unfit.hideNote, true);
    return built;
  }

  // Copy: the selected range as TSV of cellText (values that paste back into the same columns).
  function copyRange(event) {
    if (!table || !gridEl.contains(document.activeElement) || table.modules?.edit?.currentCell) return;
    const range = table.getRanges()[0];
    if (!range) return;
    const fields = range.getColumns().map((c) => c.getField()).filter((f) => columnsById.has(f));
    const rows = range.getRows();
    const tsv = () => toTsv(rows.map((r) => { const data = r.getData(); return fields.map((f) => cellText(columnsById.get(f), data[f])); }));
    event.preventDefault();
    const missing = source.window?.missing(rows) || 0;
    if (!missing) { event.clipboardData.setData("text/plain", tsv()); return; }
    // Rows not fetched yet (the window of rows): the copy event cannot wait, so fetch them and write
    // the clipboard when they are in (a focused page may, without the event).
    tell(`Copying ${rows.length} rows…`);
    withRows(rows, () => navigator.clipboard.writeText(tsv()))
      .then(() => tell(`Copied ${rows.length} rows`), (e) => tell(`Not copied: ${e.message}`));
  }
  document.addEventListener("copy", copyRange);

  /** Run `fn` once the cells of `rows` are all in the table (the window of rows fetches any it has not got), holding them meanwhile. */
  async function withRows(rows, fn) {
    if (!source.window?.missing(rows)) return fn();
    const release = await source.window.ensure(rows);
    try { return await fn(); } finally { release(); }
  }

  // The paste event goes to wherever the document's selection is, not always the grid: listen on the
  // document and take it when the grid has focus and no editor is open.
  function pasteClipboard(event) {
    if (!table || !gridEl.contains(document.activeElement) || table.modules?.edit?.currentCell) return;
    const rowData = pasteRows(event.clipboardData.getData("text/plain"));
    if (!rowData) return;
    event.preventDefault();
    const range = table.getRanges()[0];
    withRows(pasteTargets(range, rowData), () => pasteRange(rowData)).catch((e) => tell(`Not pasted: ${e.message}`));
  }
  document.addEventListener("paste", pasteClipboard);

  // The clipboard's TSV as {field: text} rows for the visible columns from the range's left edge:
  // as wide as the clipboard for a one-cell range, as wide as the range otherwise (repeating).
  function pasteRows(text) {
    const range = table.getRanges()[0];
    const data = parseTsv(text);
    if (!range || !data.length) return false;
    const visible = table.getColumns().filter((c) => c.isVisible() && columnsById.has(c.getField())).map((c) => c.getField());
    const start = visible.indexOf(range.getColumns()[0]?.getField());
    if (start < 0) return false;
    const single = range.getRows().length === 1 && range.getColumns().length === 1;
    const fields = visible.slice(start, start + (single ? Math.max(...data.map((r) => r.length)) : range.getColumns().length));
    return data.map((cells) => Object.fromEntries(fields.map((f, i) => [f, cells[i % cells.length]])));
  }

  // Paste: the clipboard's rows (split by pasteRows into {field: text}) land
  // from the range's top-left cell; a one-cell range grows to the pasted size, a bigger one is
  // filled by repeating them. The whole paste is one undo step. Text that does not fit its column is
  // skipped, marked on its cell and named, never stored as blank: what the grid can tell at once
  // (a date that is no date) here, the rest ('Alex' in a Status, "lots" in a fund) from the server's
  // answer, which names each unfit value while the fitting ones are sent again (showUnfit).
  function pasteTargets(range, rowData) {
    if (!range || !rowData.length) return [];
    const active = table.getRows("active");
    const start = active.indexOf(range.getRows()[0]);
    const span = range.getRows().length > 1 || range.getColumns().length > 1 ? range.getRows().length : rowData.length;
    return active.slice(start, start + span);
  }

  function pasteRange(rowData) {
    const range = table.getRanges()[0];
    if (!range || !rowData.length) return [];
    const targets = pasteTargets(range, rowData);
    const refused = [];
    clearUnfit();
    table.blockRedraw();
    try {
      act(() => targets.forEach((row, i) => {
        const update = {};  // the row's cells in one update (each update of a row costs the same)
        const id = row.getData().id;  // not getIndex(): that deep-copies the row's data each time
        for (const [field, raw] of Object.entries(rowData[i % rowData.length] || {})) {
          const column = columnsById.get(field);
          if (!column || READ_ONLY.has(column.type)) continue;
          const parsed = parse(column, raw);
          if (parsed.error) { refused.push({ row, field, message: `'${raw.trim()}' is ${parsed.error} for ${column.name}` }); continue; }
          const before = row.getData()[field];
          if (sameValue(before, parsed.value)) continue;
          update[field] = parsed.value;
          record(id, field, before, parsed.value);
        }
        updateRowData(row, update);
      }));
    } finally {
      table.restoreRedraw();
    }
    unfit.pasted(refused);
    return targets;
  }

  // -- unfit values -------------------------------------------------------------------

  const unfit = unfitValues(gridEl, {
    rowOf: (id) => rowOf(id), tell: (message) => tell(message),
    typed: (op) => steps.typed(op), forget: (...args) => steps.forget(...args), refused: (op, error) => refusals.set(op, error),
  });
  const clearUnfit = unfit.clear;

  // -- undo -----------------------------------------------------------------------------

  const steps = undoHistory(grid, {
    changed: (rowId, columnId) => unfit.changed(rowId, columnId),
    show: (rowId, cells) => shownRow(rowId)?.update(cells),
    saved: () => waitForQueue(),
    rowsChanged: () => setCount(),
    tell,
  });
  const { act, record } = steps;

  function activeCell() {
    const internal = table?.modules?.selectRange?.getActiveCell?.();
    return internal ? internal.getComponent() : null;
  }

  /** The cells of the selected range, as rows of cells. */
  const rangeCells = () => table.getRanges()[0]?.getCells() || [];

  /** Move the selection one cell (after Enter or Tab in an editor), keeping the keys on the grid. */
  function moveSelection(dir) {
    if (!table || table.modules.edit?.currentCell) return;  // the editor stayed open: its value did not parse
    table.modules.selectRange?.navigate(false, false, dir);
    const holder = gridEl.querySelector(".tabulator-tableholder");
    // Now, and again once the closed editor is gone (under load its removal can come later and
    // drop the focus to the page, where the next Enter would reach nothing).
    const keepKeys = () => { if (holder && !gridEl.contains(document.activeElement)) holder.focus({ preventScroll: true }); };
    keepKeys();
    setTimeout(keepKeys, 0);
    setTimeout(keepKeys, 100);
    heartbeat(activeCell(), false);
  }
  // Every editor says when Enter or Tab committed it (widgets/columns.js).
  onEditorMove(moveSelection);

  /** Checkboxes: a click anywhere in the cell, or Space on the range, toggles (all on unless all are on). */
  function toggleChecks(cells) {
    const boxes = cells.filter((c) => columnsById.get(c.getField())?.type === "checkbox" && !lockedByOther(c));
    if (!boxes.length) return;
    const on = !boxes.every((c) => c.getValue() === true);
    act(() => {
      for (const cell of boxes) {
        const before = cell.getValue();
        if (sameValue(Boolean(before), on)) continue;
        cell.getRow().update({ [cell.getField()]: on });
        record(cell.getRow().getIndex(), cell.getField(), before, on);
      }
    });
  }

  /** Whether Enter may open `cell`'s editor (checkboxes have none; read-only and locked cells none either). */
  function editable(cell) {
    const column = cell && columnsById.get(cell.getField());
    return Boolean(column) && !READ_ONLY.has(column.type) && column.type !== "checkbox" && !lockedByOther(cell);
  }

  /** Delete or Backspace: the selected range cleared, as one undo step. */
  function clearRange() {
    const rows = table.getRanges()[0]?.getRows() || [];
    withRows(rows, clearCells).catch((e) => tell(`Not cleared: ${e.message}`));
  }

  function clearCells() {
    act(() => {
      for (const cell of rangeCells().flat()) {
        const column = columnsById.get(cell.getField());
        if (!column || READ_ONLY.has(column.type) || lockedByOther(cell)) continue;
        const before = cell.getValue();
        const empty = column.type === "checkbox" ? false : ["multi_select", "contacts"].includes(column.type) ? [] : null;
        if (sameValue(before, empty) || (before === "" && empty === null)) continue;
        cell.getRow().update({ [column.id]: empty });
        record(cell.getRow().getIndex(), column.id, before, empty);
      }
    });
  }

  function onKeyDown(event) {
    if (!table) return;
    unfit.hideNote();
    const editorOpen = event.target.closest(".cell-editor, .tabulator-editing");
    if (editorOpen) return;  // the editors commit on Enter and Tab and tell the grid to move (widgets/columns.js)
    const mod = event.ctrlKey || event.metaKey;
    if (mod && !event.altKey && event.key.toLowerCase() === "z") {
      event.preventDefault(); event.stopPropagation();
      if (event.shiftKey) steps.redo(); else steps.undo();
    } else if (mod && event.key.toLowerCase() === "y") {
      event.preventDefault(); event.stopPropagation();
      steps.redo();
    } else if (mod && !event.shiftKey && event.key.toLowerCase() === "c") {
      event.preventDefault(); event.stopPropagation();
      document.execCommand("copy");  // fires the copy event that copyRange answers
    } else if (mod && event.key.toLowerCase() === "d") {
      event.preventDefault(); event.stopPropagation();
      fillDown();
    } else if (!mod && !event.altKey && (event.key === "Delete" || event.key === "Backspace") && !event.target.closest(".tabulator-header")) {
      event.preventDefault(); event.stopPropagation();
      clearRange();
    } else if (!mod && !event.altKey && !event.shiftKey && event.key === "Enter" && !event.isComposing
               && !event.target.closest(".tabulator-header, button, a, input, textarea, select") && editable(activeCell())) {
      // Enter opens the selected cell's editor: ours to do, so that it never depends on where
      // Tabulator's own key handling thinks the focus is.
      event.preventDefault(); event.stopPropagation();
      activeCell().edit(true);
    } else if (!mod && !event.altKey && event.key === " " && columnsById.get(activeCell()?.getField())?.type === "checkbox") {
      event.preventDefault(); event.stopPropagation();
      toggleChecks(rangeCells().flat());
    } else if (!mod && !event.altKey && event.key.length === 1 && !event.isComposing && !event.target.closest(".tabulator-header")) {
      // A fast typist's next key can arrive before the editor it opened has the focus: it is that editor's.
      const opening = gridEl.querySelector(".tabulator-editing .cell-editor");
      if (opening) {
        event.preventDefault(); event.stopPropagation();
        opening.value += event.key;
        opening.focus({ preventScroll: true });
        return;
      }
      // Typing on a selected cell starts editing with that character, as in Airtable.
      const cell = activeCell();
      const column = cell && columnsById.get(cell.getField());
      if (!column || READ_ONLY.has(column.type) || ["date", "checkbox", "single_select", "multi_select", "contacts"].includes(column.type)) return;
      if (lockedByOther(cell)) return;
      event.preventDefault(); event.stopPropagation();
      seedEditor(event.key);
      cell.edit(true);
    }
  }

  function fillDown() {
    const range = table.getRanges()[0];
    if (!range) return;
    // Rows and fields, not range.getCells(): that makes every cell of every row in the range (see updateRowData).
    const rows = range.getRows();
    if (rows.length < 2) return;
    withRows(rows, () => fillRows(range, rows)).catch((e) => tell(`Not filled: ${e.message}`));
  }

  function fillRows(range, rows) {
    const fields = range.getColumns().map((c) => c.getField()).filter((f) => columnsById.has(f) && !READ_ONLY.has(columnsById.get(f).type));
    const top = rows[0].getData();
    clearUnfit();
    table.blockRedraw();  // one redraw at the end, not one per row in view
    try {
      act(() => {
        for (const row of rows.slice(1)) {
          const data = row.getData();
          const update = {};
          for (const field of fields) {
            if (sameValue(data[field], top[field])) continue;
            record(data.id, field, data[field], top[field]);
            update[field] = top[field];
          }
          updateRowData(row, update);
        }
      });
    } finally {
      table.restoreRedraw();
    }
  }

  // -- applying changes ------------------------------------------------------------

  /** Show `cells` in a row (its id, or the row), except the cell being edited, and our unsaved values when `keepPending`. */
  function updateRow(rowOrId, cells, { keepPending = false } = {}) {
    const row = typeof rowOrId === "string" ? shownRow(rowOrId) : rowOrId;
    if (!row) return;
    const rowId = row.getData().id;
    const update = { ...cells };
    // Never redraw the cell being edited: that would close its editor under the user's fingers.
    const editing = table.modules?.edit?.currentCell;
    if (editing && editing.row === row._getSelf()) delete update[editing.column.getField()];
    if (keepPending) {
      // Our unsaved value wins on screen (over a replayed op, or a save answered meanwhile) until it is saved;
      // the server then judges any clash by base_version, as for every edit.
      for (const op of queue.unsaved()) if (op.op === "set_cell" && op.row_id === rowId) delete update[op.column_id];
    }
    updateRowData(row, update);  // after a paste, thousands of rows, most never drawn
  }

  async function refreshRow(rowId) {
    try {
      const row = await api("GET", `${API.rows}/${rowId}`);
      if (rowOf(rowId)) updateRow(rowId, row.cells);
      else if (table && !row.archived) table.addRow(fromFull(row), false);
    } catch { /* gone or signed out: nothing to show */ }
  }

  // Not table.getRow: that warns in the console for every id the table does not hold (rows of other views).
  // The window of rows knows its rows by id (findRow walks every row of the table for each).
  const rowOf = (id) => (source.window ? source.window.row(id)?.getComponent() ?? null : findRow(table, id));
  // A row whose cells are in the table: one the window of rows holds only as a placeholder shows what
  // it fetches when it comes into view (unsaved edits laid over it), so changes to it are not shown.
  const shownRow = (id) => (source.window && !source.window.holds(id) ? null : rowOf(id));

  const hasFormulas = () => columns.some((c) => c.type === "formula");

  function onEvent(name, payload, id) {
    if (name === "presence") return present.show(payload);
    if (name === "mentions") return window.dispatchEvent(new CustomEvent("crm:mentions", { detail: payload }));  // the header's count
    if (name === "reset") return onReset(payload.version);
    if (name !== "ops") return;
    if (payload.ops.some((op) => op.kind === "reset_grid")) { queue.seen(id ?? payload.version); return reload(); }  // a restore
    // Strength scores were refreshed (after a mail sync): Relationship cells have new values.
    const rewarmed = payload.ops.some((op) => op.kind === "relationships") && columns.some((c) => c.type === "relationship");
    const columnChange = payload.ops.some((op) => op.kind.endsWith("_column"));
    if (source.window) grid.emit("windowChanged");  // the server's group totals moved on (ours included)
    const touched = new Set();
    for (const op of payload.ops) {
      const ours = op.actor_id === me.id && (queue.mine.has(op.version) || queue.inFlight);
      if (ours) continue;
      if (op.kind === "set_cell" && op.row_id) {
        const row = rowOf(op.row_id);
        if (row) {
          if (source.window && !source.window.holds(op.row_id)) source.window.note(op);  // its page may be on its way
          updateRow(op.row_id, { [op.column_id]: op.after }, { keepPending: true });
          flash(row, op.column_id);
          touched.add(op.row_id);
        }
      } else if (op.kind === "add_row") {
        if (!rowOf(op.row_id)) table.addRow({ id: op.row_id }, false);
        touched.add(op.row_id);
      } else if (op.kind === "archive_row") {
        rowOf(op.row_id)?.delete();
      } else if (op.kind === "restore_row") {
        refreshRow(op.row_id);
      }
    }
    queue.seen(id ?? payload.version);
    streamSeen = Math.max(streamSeen, id ?? payload.version);
    drawer.module?.refreshOpenDrawer(payload.ops.map((op) => op.row_id));  // not loaded: no drawer is open
    if (columnChange) reloadColumns();
    else if (rewarmed) reload();
    else if (hasFormulas()) for (const rowId of touched) refreshRow(rowId);
    setCount();
  }

  /**
   * "reset": more changed since the stream's last event than it sends one by one (over 5,000 ops).
   * When every version since then is one of our own requests (a paste of 5,000 rows x 10), the table
   * already shows it, as it does for our own ops events: reloading would fetch every row again
   * (100,000 rows: ~50 s) and drop the selection. Otherwise, reload.
   */
  async function onReset(version) {
    const since = streamSeen;
    streamSeen = Math.max(streamSeen, version);
    while (queue.inFlight && !stopped) await new Promise((resolve) => setTimeout(resolve, 50));  // its version comes with its answer
    if (version <= since) return reload();  // the grid went back (a restore): not ours
    for (let v = since + 1; v <= version; v += 1) if (!queue.mine.has(v)) return reload();
    queue.seen(version);
  }

  function flash(row, columnId) {
    const el = (row.getCell(columnId) || null)?.getElement();
    if (!el) return;
    el.classList.remove("flash");
    void el.offsetWidth;  // restart the animation
    el.classList.add("flash");
  }

  async function reloadColumns() {
    const state = await api("GET", `${API.state}?rows=0`);
    setColumns(state.grid.columns);
    views = state.views;
    view = views.find((v) => v.id === view?.id) || views[0] || null;
    renderViewSelect();
    // The rows are cleared and drawn again: without this the grid went back to its first column when
    // a field far to the right was edited, here or by someone else.
    const holder = gridEl.querySelector(".tabulator-tableholder");
    const left = holder?.scrollLeft || 0;
    setColumnsForReload();
    await reload();
    // Again once the rows are drawn: until then the holder may be too narrow to scroll that far.
    if (holder) { holder.scrollLeft = left; requestAnimationFrame(() => { holder.scrollLeft = left; }); }
  }

  // New columns for rows that are reloaded next: the rows go first. Tabulator's column-by-column
  // drawing (renderHorizontal "virtual") would otherwise draw a row it kept from before with the new
  // columns, and throw, when the grid is scrolled before the reload replaced the rows.
  function setColumnsForReload() {
    source.drop();  // whatever was still loading is for the old columns
    table.clearData();
    table.setColumns(columnDefs());
  }

  /** The current view's rows again; resolves once every row is in the table. */
  async function reload() {
    if (await source.load()) { await rowsIn(); showUnsaved(); }
  }

  // The server's rows do not have the edits still waiting (offline, or signed out): show those over them.
  function showUnsaved() {
    for (const op of queue.unsaved()) if (op.op === "set_cell") shownRow(op.row_id)?.update({ [op.column_id]: op.value });
  }

  function renderViewSelect() {
    viewSelect.replaceChildren(...views.map((v) => h("option", { value: v.id, selected: v === view },
      v.shared ? v.name : `${v.name} (personal)`)));
  }

  /** After the view tools changed views: show `list`, switch to `currentId` (rows and columns follow). */
  async function setViews(list, currentId) {
    views = list;
    view = views.find((v) => v.id === currentId) || views[0] || null;
    renderViewSelect();
    history.replaceState(null, "", view ? `/?view=${encodeURIComponent(view.id)}` : "/");
    setColumnsForReload();
    await reload();
    grid.emit("viewChanged", view);
  }

  // -- presence ---------------------------------------------------------------------

  /** Is the selected cell's editor open? (Not another cell's, whose editor closes after this click.) */
  const editingActive = () => { const open = table?.modules?.edit?.currentCell; return Boolean(open && open.getComponent() === activeCell()); };
  const present = presence(grid, { activeCell, editingActive, el: presenceEl });
  const { lockedByOther, heartbeat } = present;

  // What is typed in an open editor is queued (and so stored) before the page goes: offline it waits for a reload.
  const onPageHide = () => { keepOpenEdit(); present.leave(); };
  window.addEventListener("pagehide", onPageHide);
  // The header's mentions list opens a row here without leaving the page (widgets/mentions.js).
  const onOpenRow = (event) => { if (event.detail?.rowId) grid.openRow(event.detail.rowId); };
  window.addEventListener("crm:open-row", onOpenRow);

  // -- toolbar ------------------------------------------------------------------------

  viewSelect.addEventListener("change", () => setViews(views, viewSelect.value));

  let searchTimer = null;
  search.addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(reload, 300);
  });

  addRow.addEventListener("click", async () => {
    addRow.blur();  // keys typed before the editor opens must not press the button again
    await rowsIn();  // the new row goes after every row, as on the server
    const id = crypto.randomUUID();
    queue.push({ op: "add_row", row_id: id }, { now: true });
    const row = await table.addRow({ id }, false);
    await table.scrollToRow(row, "bottom", false);
    const first = table.getColumns().find((c) => c.isVisible() && columnsById.has(c.getField()));
    row.getCell(first)?.edit(true);
    setCount();
  });

  async function addColumn() {
    const op = await (await dialogs.get()).addColumnDialog();
    if (!op) return;
    op.column_id = crypto.randomUUID();
    queue.push(op, { now: true });
    await waitForQueue();
    await reloadColumns();
    const col = table.getColumn(op.column_id);
    if (!col) { more.button.focus(); return; }
    table.scrollToColumn(col, "middle", false).catch(() => {});  // (its promise may never settle: not awaited)
    // The new field's ⋮ takes the focus (the reload left it on the rows): a keyboard user is where the field is.
    (gridEl.querySelector(`.column-menu-button[data-column-menu="${CSS.escape(op.column_id)}"]`) || more.button).focus({ preventScroll: true });
  }

  function waitForQueue() {
    return new Promise((resolve) => {
      const tick = () => (queue.size || queue.inFlight ? setTimeout(tick, 50) : resolve());
      tick();
    });
  }

  const beforeUnload = (event) => { if (queue.size || queue.inFlight) event.preventDefault(); };
  window.addEventListener("beforeunload", beforeUnload);

  start().catch((e) => { if (!stopped) setStatus("error", e.message); });

  // Leaving the page (a 401 included) with an editor open: keep what was typed.
  function keepOpenEdit() {
    const cell = table?.modules?.edit?.currentCell;
    const input = gridEl.querySelector(".tabulator-editing input.cell-editor, .tabulator-editing textarea.cell-editor");
    const column = cell && columnsById.get(cell.column.getField());
    if (!input || !column) return;
    const parsed = parse(column, input.value);
    if (!parsed.error && !sameValue(parsed.value, cell.getValue())) {
      queue.push({ op: "set_cell", row_id: cell.row.getComponent().getIndex(), column_id: column.id, value: parsed.value });
    }
  }

  return () => {
    stopped = true;
    keepOpenEdit();
    queue.stop();
    closeEvents?.();
    present.stop();
    window.removeEventListener("pagehide", onPageHide);
    window.removeEventListener("crm:open-row", onOpenRow);
    window.removeEventListener("beforeunload", beforeUnload);
    document.removeEventListener("copy", copyRange);
    document.removeEventListener("paste", pasteClipboard);
    table?.destroy();
  };
}
