// Undo and redo on the grid, by user action: a paste, a fill, a range delete, an import is one step.
// A step: {changes: [{row_id, column_id, before, after}], rows?: {added: [row ids]}}. The cell edits
// of a step go to the save queue together when it ends.
import { api } from "../api.js";
import { API } from "../config.js";

export const sameValue = (a, b) => JSON.stringify(a ?? null) === JSON.stringify(b ?? null);

/**
 * `grid`: the grid's API (table, queue, rowOf, reload, on); `hooks`: changed(rowId, columnId) (a cell
 * is edited: its unfit mark goes), show(rowId, cells) (show a cell's value, when its row is shown),
 * rowsChanged() (rows came or went), tell(message).
 */
export function undoHistory(grid, hooks) {
  const undo = [];
  const redo = [];
  let action = null;             // the changes of the action being recorded (see act)
  const typed = new WeakSet();   // ops of values typed into an editor (kept in the cell when unfit)
  const queue = grid.queue;

  /**
   * Record the cell edits `fn` makes as one undo step (nested calls join the outer one); their ops go
   * to the save queue together at the end: pushed one at a time, each push stored the whole queue again
   * (a 5,000 x 10 paste stored 50,000 growing queues: minutes).
   */
  function act(fn) {
    if (action) return fn();
    action = { changes: [], ops: [] };
    try {
      return fn();
    } finally {
      const step = action;
      action = null;
      queue.pushMany(step.ops);
      delete step.ops;
      if (step.changes.length || step.rows) keep(step);
    }
  }

  function keep(step) {
    undo.push(step);
    if (undo.length > 200) undo.shift();
    redo.length = 0;
  }

  function record(rowId, columnId, before, after, { byTyping = false } = {}) {
    const change = { row_id: rowId, column_id: columnId, before, after };
    if (action) action.changes.push(change); else keep({ changes: [change] });
    hooks.changed(rowId, columnId);
    const op = { op: "set_cell", row_id: rowId, column_id: columnId, value: after ?? null };
    if (byTyping) typed.add(op);
    if (action) action.ops.push(op); else queue.push(op);
    return op;
  }

  /** Undo (key "before") or redo (key "after") the newest step of `from`: its cells, and rows an import added. */
  function replay(from, to, key) {
    const step = from.pop();
    if (!step) return;
    to.push(step);
    const changes = key === "before" ? [...step.changes].reverse() : step.changes;
    const ops = [];
    const table = grid.table;
    table.blockRedraw();
    try {
      if (step.rows && key === "before") for (const id of step.rows.added) { ops.push({ op: "archive_row", row_id: id }); grid.rowOf(id)?.delete(); }
      if (step.rows && key === "after") for (const id of step.rows.added) ops.push({ op: "restore_row", row_id: id });
      for (const change of changes) {
        const value = change[key];
        hooks.changed(change.row_id, change.column_id);
        hooks.show(change.row_id, { [change.column_id]: value });
        ops.push({ op: "set_cell", row_id: change.row_id, column_id: change.column_id, value: value ?? null });
      }
    } finally {
      table.restoreRedraw();
    }
    queue.pushMany(ops);
    if (step.rows && key === "after") hooks.saved().then(() => grid.reload());  // the restored rows come back in place
    if (step.rows) hooks.rowsChanged();
  }

  /** Drop the latest recorded change of a cell (to `value`) from the undo history; returns it. */
  function forget(rowId, columnId, value) {
    for (let i = undo.length - 1; i >= 0; i -= 1) {
      const at = undo[i].changes.findIndex((c) => c.row_id === rowId && c.column_id === columnId && sameValue(c.after, value));
      if (at < 0) continue;
      const [change] = undo[i].changes.splice(at, 1);
      if (!undo[i].changes.length && !undo[i].rows) undo.splice(i, 1);
      return change;
    }
    return null;
  }

  /**
   * An import's edits as one undo step: the rows it added (undo archives them, redo restores them)
   * and the cells it changed, read from the op log of the import's version.
   */
  async function importStep(report) {
    if (!report?.version) return;
    const found = await api("GET", `${API.changes}?since=${report.version - 1}`);
    if (found.reset) { hooks.tell("This import is too large to undo with Ctrl+Z: restore its pre-import backup instead."); return; }
    const ops = found.ops.filter((op) => op.version === report.version);
    const added = ops.filter((op) => op.kind === "add_row").map((op) => op.row_id);
    const fresh = new Set(added);
    const changes = ops.filter((op) => op.kind === "set_cell" && !fresh.has(op.row_id))
      .map((op) => ({ row_id: op.row_id, column_id: op.column_id, before: op.before, after: op.after }));
    if (added.length || changes.length) keep({ changes, rows: added.length ? { added } : undefined });
  }
  grid.on("imported", (report) => { importStep(report).catch(() => {}); });

  return {
    act, record, forget,
    typed: (op) => typed.has(op),
    undo: () => replay(undo, redo, "before"),
    redo: () => replay(redo, undo, "after"),
  };
}
