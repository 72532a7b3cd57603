// Tabulator, as the grid uses it: the pinned ES module build, with two changes to its range selection,
// one warning fewer and a row lookup that does not warn.
import { EditModule, SelectRangeModule, TabulatorFull } from "/node_modules/tabulator-tables/dist/js/tabulator_esm.min.mjs";

// Tabulator 6.5 lays out the selected range over every loaded row: on each load, on each mousedown
// (which first makes a default range) and when an editor opens. That makes and touches an element
// for every one of 10,000 rows, ~0.1 s a time, so a double-click waited for it twice. Laying out the
// rows that are drawn (buffer included), as Tabulator already does for a drag, is enough when every
// row drawn later gets its row classes with its cells: renderCell runs for each cell drawn.
const { layoutElement, renderCell } = SelectRangeModule.prototype;
SelectRangeModule.prototype.layoutElement = function layoutDrawnRows() {
  return layoutElement.call(this, true);
};
SelectRangeModule.prototype.renderCell = function renderCellAndRow(cell) {
  renderCell.call(this, cell);
  if (cell.column === this.rowHeader && cell.row.type === "row") this.layoutRow(cell.row);
};

// A click also wrapped the DOM selection around the cell, for Tabulator's own clipboard, which the
// grid does not use (copy and paste are ours, widgets/clipboard.js): ~20 ms a click. Focus is enough.
SelectRangeModule.prototype.initializeFocus = function focusTable() {
  if (window.getSelection().rangeCount) window.getSelection().removeAllRanges();
  this.restoreFocus();
};

// Each time columns are set (every view change), Tabulator warns that frozen data columns with range
// selection "may result in unpredictable behavior". The grid freezes its first columns on purpose and
// the range selection over them is tested (tests/browser): the check is skipped, nothing else changes.
const { updateHeaderColumn } = SelectRangeModule.prototype;
SelectRangeModule.prototype.updateHeaderColumn = function updateHeaderColumnQuietly() {
  const frozen = this.table.modules.frozenColumns;
  const active = frozen?.active;
  if (frozen) frozen.active = false;  // read only by that warning
  try { updateHeaderColumn.call(this); } finally { if (frozen) frozen.active = active; }
};

/** The row component with this id, or null: `table.getRow` warns "Find Error" in the console for a row
 * the table does not hold (one in another view, one not loaded yet), which the grid asks about routinely. */
export function findRow(table, id) {
  const row = table?.rowManager?.findRow(id);
  return row ? row.getComponent() : null;
}

/**
 * row.update(cells) for many rows at once (a paste, a fill, a range cleared): a row never drawn has no
 * cells yet, and Tabulator's update makes all of them first (41 elements, each formatted, kept) and
 * copies the row's data twice, ~1 ms a row: a paste of 5,000 rows took seconds and kept 200,000 cell
 * elements. Such a row's data is changed in place (its cells are made from it when it is drawn) and
 * "rowUpdated" is still announced (the group sums hear it); a row that has cells is updated as usual.
 */
export function updateRowData(row, cells) {
  const internal = row._getSelf();
  if (!Object.keys(cells).length) return Promise.resolve();
  if (internal.cells.length || internal.type !== "row") return row.update(cells);
  Object.assign(internal.data, cells);
  internal.dispatchExternal("rowUpdated", row);
  return Promise.resolve();
}

export { EditModule, TabulatorFull as Tabulator };
