// Tabulator, as the grid uses it: the pinned ES module build, with three changes to its range selection,
// a narrower window of drawn columns, a focus that stays on the rows as they are redrawn, one warning
// fewer and a row lookup that does not warn.
import { EditModule, Module, SelectRangeModule, TabulatorFull } from "/node_modules/tabulator-tables/dist/js/tabulator_esm.min.mjs";

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

// An arrow key scrolls the cell it moves to into view, and Tabulator draws that column's cells when the
// scroll event arrives, a frame later: a key typed in between opened its editor in a cell not yet in the
// page, and the editor was lost. The columns are drawn at once instead (the scroll event then finds
// nothing to do).
const { navigate } = SelectRangeModule.prototype;
SelectRangeModule.prototype.navigate = function navigateAndDraw(...args) {
  const moved = navigate.apply(this, args);
  const { columnManager, rowManager } = this.table;
  if (rowManager.element.scrollLeft !== columnManager.scrollLeft) columnManager.scrollHorizontal(rowManager.element.scrollLeft);
  return moved;
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

// With renderHorizontal "virtual", Tabulator draws the columns within two holder widths either side of
// what shows: 27 cells a row at 100,000 rows, of which 11 are seen, and every one of them is made,
// styled and laid out as each row scrolls in. Half a holder width (at least the widest column, so one
// scroll step never uncovers an undrawn column) draws 14-15: half the cells to make as each row
// scrolls in, and less tab memory (docs/PERFORMANCE.md). The renderer is not exported, so this module adjusts the table's own one.
class NarrowColumnWindow extends Module {
  static moduleName = "narrowColumnWindow";

  initialize() {
    const renderer = this.table.columnManager.renderer;
    if (!renderer || !("windowBuffer" in renderer)) return;  // only the virtual column renderer has one
    const widestColumn = () => Math.max(0, ...this.table.columnManager.columnsByIndex
      .filter((column) => column.visible).map((column) => column.getWidth()));
    renderer.calcWindowBuffer = function halfHolderWidth() {
      this.windowBuffer = Math.max(widestColumn(), this.elementVertical.clientWidth / 2);
    };
    // A sideways scroll of more than half the window redraws every cell of every row (rerenderColumns),
    // which also closes an editor opened just before the scroll event arrived (a click or an arrow key
    // that scrolled, then a key). Tabulator's own threshold, a holder width, is kept: the narrower
    // window changes what is drawn, not when everything is redrawn.
    renderer.scroll = function scrollColumns(diff) {
      this.vDomScrollPosLeft += diff;
      this.vDomScrollPosRight += diff;
      if (Math.abs(diff) > Math.max(widestColumn(), this.elementVertical.clientWidth)) {
        this.rerenderColumns();
      } else if (diff > 0) {
        this.addColRight();
        this.removeColLeft();
      } else {
        this.addColLeft();
        this.removeColRight();
      }
    };
  }
}
TabulatorFull.registerModule(NarrowColumnWindow);

// Tabulator redraws rows by taking them out of the page (a long scroll, a reload; a full redraw puts
// the same rows back), and a click first focuses the cell it lands on: a Shift+click just after a
// long scroll lost the focus with its row, to the page, where Ctrl+C, Enter and undo reached nothing.
// When the focus drops to the page without the user sending it there (a click outside the table, a
// key to another element, another window), the rows take it back.
class FocusKeeper extends Module {
  static moduleName = "focusKeeper";

  initialize() {
    let pointerOutside = false;
    const notePointer = (event) => { pointerOutside = !this.table.element.contains(event.target); };
    const keepFocus = (event) => {
      if (event.relatedTarget || pointerOutside) return;
      queueMicrotask(() => {
        const rows = this.table.rowManager.element;
        const dropped = !document.activeElement || document.activeElement === document.body;
        if (dropped && document.hasFocus() && rows.isConnected) rows.focus({ preventScroll: true });
      });
    };
    document.addEventListener("pointerdown", notePointer, true);
    this.table.element.addEventListener("focusout", keepFocus);
    this.subscribe("table-destroy", () => {
      document.removeEventListener("pointerdown", notePointer, true);
      this.table.element.removeEventListener("focusout", keepFocus);
    });
  }
}
TabulatorFull.registerModule(FocusKeeper);

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
