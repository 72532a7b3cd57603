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
    const last = sources[sources.length - 1].getPosition();
    let targets = [];
    const move = (e) => {
      const row = rowAt(e.clientX, e.clientY);
      if (!row) return;
      const end = row.getPosition();
      unmark();
      targets = end > last ? table.getRows("active").filter((r) => r.getPosition() > last && r.getPosition() <= end) : [];
      for (const r of targets) for (const c of columns) {
        const el = r.getCell(c)?.getElement();
        if (el) { el.classList.add("fill-target"); marked.push(el); }
      }
    };
    const up = () => {
      document.removeEventListener("mousemove", move);
      document.removeEventListener("mouseup", up);
      unmark();
      grid.act(() => targets.forEach((row, i) => {  // the whole fill is one undo step
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
    };
    document.addEventListener("mousemove", move);
    document.addEventListener("mouseup", up);
  });
}
