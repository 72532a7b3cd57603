// The fill handle: drag the small square at the corner of the selected range down to
// repeat its values over the rows below, as in spreadsheets. The fill is one undoable
// step (grid.act), and the save queue sends its cells together.
import { h } from "../dom.js";
import { READ_ONLY } from "./columns.js";
import { updateRowData } from "./tabulator.js";

export function fillHandle(grid, record) {
  const table = grid.table;
  const handle = h("div.fill-handle", { title: "Drag down to fill", dataset: { fillHandle: "" } });
  let marked = [];

  const place = () => {
    const range = table.element.querySelector(".tabulator-range.tabulator-range-active");
    if (range && handle.parentNode !== range) range.append(handle);
  };
  for (const name of ["rangeAdded", "rangeChanged", "renderComplete", "scrollVertical"]) table.on(name, place);
  let remark = null;  // while dragging: mark the targets again (a page of a window of rows drawn makes new cells)
  table.on("renderComplete", () => remark?.());

  const unmark = () => { for (const el of marked) el.classList.remove("fill-target"); marked = []; };
  const rowAt = (x, y) => {
    const el = document.elementFromPoint(x, y)?.closest(".tabulator-row");
    return el ? table.getRows("active").find((r) => r.getElement() === el) || null : null;
  };

  handle.addEventListener("mousedown", (event) => {
    const range = table.getRanges()[0];
    if (!range || event.button !== 0) return;
    event.preventDefault();
    event.stopPropagation();
    const sources = range.getRows();
    const columns = range.getColumns().filter((c) => {
      const column = grid.column(c.getField());
      return column && !READ_ONLY.has(column.type);
    });
    // Positions by index in the active rows: getPosition() is an indexOf over them, per row (100,000
    // rows: 10^10 steps a mouse move).
    const active = table.rowManager.activeRows;
    const last = active.indexOf(sources[sources.length - 1]._getSelf());
    let targets = [];
    let end = -1;
    const mark = () => {
      unmark();
      targets = end > last ? active.slice(last + 1, end + 1).map((r) => r.getComponent()) : [];
      for (const r of targets) {
        if (!r._getSelf().element?.isConnected) continue;  // only drawn rows: getCell makes a row's cells
        for (const c of columns) {
          const el = r.getCell(c)?.getElement();
          if (el) { el.classList.add("fill-target"); marked.push(el); }
        }
      }
    };
    const move = (e) => {
      const row = rowAt(e.clientX, e.clientY);
      if (!row) return;
      end = active.indexOf(row._getSelf());
      mark();
    };
    remark = mark;
    const fill = () => grid.act(() => targets.forEach((row, i) => {  // the whole fill is one undo step
      const source = sources[i % sources.length];
      const update = {};  // the row's cells in one update
      for (const c of columns) {
        const field = c.getField();
        const before = row.getData()[field];
        const value = source.getData()[field];
        if (JSON.stringify(before ?? null) === JSON.stringify(value ?? null)) continue;
        update[field] = value;
        record(row.getData().id, field, before, value);  // not getIndex(): it deep-copies the row's data
      }
      updateRowData(row, update);
    }));
    const up = () => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      remark = null;
      unmark();
      // Over a window of rows the targets may be placeholders: their values before (for undo, and to skip
      // cells that already hold the value) are fetched first, as for Ctrl+D.
      if (targets.length) grid.withRows([...sources, ...targets], fill).catch((e) => grid.tell?.(`Not filled: ${e.message}`));
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  });
}
