// Values that did not fit their column (a date that is no date, 'Alex' in a Status): the cell keeps a
// mark and says why in its title while it is drawn and redrawn, until it is changed again; the notice
// names them; a typed one is explained beside its cell.
import { h } from "../dom.js";

/**
 * `gridEl`: the grid's element; `hooks`: rowOf(id), tell(message), typed(op) (the op of a value
 * typed into an editor), forget(rowId, columnId, value) (drop that change from the undo history),
 * refused(op, error) (the server's error for that op).
 */
export function unfitValues(gridEl, hooks) {
  const cells = new Map();  // "row|column" → why the value typed or pasted there did not fit
  let told = [];            // the unfit values of the last paste or edit, as the notice lists them
  let lastRefused = [];     // those the last paste found itself (the server names the others)
  const note = h("div.unfit-note", { role: "alert", hidden: true });
  gridEl.parentElement?.append(note);

  function tellUnfit() {
    const n = told.length;
    hooks.tell(`${n} value${n === 1 ? "" : "s"} didn't fit: ${told.slice(0, 3).join("; ")}${n > 3 ? " …" : ""}`);
  }

  /** A column definition's formatter, made to draw the mark. */
  function mark(def) {
    const format = def.formatter;
    def.formatter = (cell, params, onRendered) => {
      const el = cell.getElement();
      const why = cells.size ? cells.get(`${cell.getData().id}|${cell.getField()}`) : undefined;
      if (why || el.classList.contains("cell-unfit")) {
        el.classList.toggle("cell-unfit", Boolean(why));
        if (why) { el.title = why; el.setAttribute("aria-invalid", "true"); } else { el.removeAttribute("title"); el.removeAttribute("aria-invalid"); }
      }
      return format(cell, params, onRendered);
    };
  }

  /** What a paste found unfit itself: [{row, field, message}]. */
  function pasted(refused) {
    lastRefused = refused.map((r) => r.message);
    if (!refused.length) return;
    for (const r of refused) cells.set(`${r.row.getIndex()}|${r.field}`, r.message);
    for (const r of refused) r.row.reformat();
    told = lastRefused;
    tellUnfit();
  }

  /**
   * The server named values that do not fit (it applied nothing; the queue sends the others again).
   * A value typed into a cell stays there, marked, with the reason beside the cell, to be corrected;
   * a pasted or filled one is skipped: the cell shows its saved value again, marked. Either way
   * the change leaves the undo history (it never happened).
   */
  function named(items, error) {
    const typedOne = items.length === 1 && hooks.typed(items[0].op);
    for (const { op, problem } of items) {
      hooks.refused(op, Object.assign(new Error(problem.message), { status: 422, payload: error.payload }));
      cells.set(`${op.row_id}|${op.column_id}`, problem.message);
      const change = hooks.forget(op.row_id, op.column_id, op.value);
      const row = hooks.rowOf(op.row_id);
      if (!row) continue;
      if (!hooks.typed(op) && change) row.update({ [op.column_id]: change.before });
      else row.reformat();
    }
    const fromPaste = items.some((i) => !hooks.typed(i.op));
    told = [...(fromPaste ? lastRefused : []), ...items.map((i) => i.problem.message)];
    tellUnfit();
    if (typedOne) noteBeside(items[0].op, items[0].problem.message);
  }

  /** Why a typed value did not fit, beside its cell (until the next key or click). */
  function noteBeside(op, message) {
    const el = hooks.rowOf(op.row_id)?.getCell(op.column_id)?.getElement();
    if (!el) return;
    const box = el.getBoundingClientRect();
    const wrap = gridEl.parentElement.getBoundingClientRect();
    note.textContent = message;
    note.style.left = `${box.left - wrap.left}px`;
    note.style.top = `${box.bottom - wrap.top + 2}px`;
    note.hidden = false;
  }

  /** Forget the marks of an earlier paste (a new action starts afresh), or one cell's. Typed ones stay until their cell changes. */
  function clear(rowId, columnId) {
    if (!rowId) lastRefused = [];
    if (!cells.size) return;
    const keys = rowId ? [`${rowId}|${columnId}`] : [...cells.keys()];
    for (const key of keys) {
      if (!cells.delete(key)) continue;
      const [r, c] = key.split("|");
      const el = hooks.rowOf(r)?.getCell(c)?.getElement();
      if (el) { el.classList.remove("cell-unfit"); el.removeAttribute("title"); el.removeAttribute("aria-invalid"); }
    }
  }

  return {
    mark, pasted, named, clear,
    /** A cell is changed: its mark goes. */
    changed: (rowId, columnId) => { if (cells.has(`${rowId}|${columnId}`)) clear(rowId, columnId); },
    hideNote: () => { note.hidden = true; },
  };
}
