// Tabulator, as the grid uses it: the pinned ES module build, with two changes to its range selection.
import { SelectRangeModule, TabulatorFull } from "/node_modules/tabulator-tables/dist/js/tabulator_esm.min.mjs";

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

export { TabulatorFull as Tabulator };
