// Loading the grid's rows: the first page is drawn at once, the other pages follow, fetched a few at
// a time and added when the browser is idle. Above WINDOW.rows rows (config.js) the table holds a
// placeholder for each row instead, from the listing's ids, and a RowWindow (rowwindow.js) fetches
// the cells of the rows near the view.
import { authHeaders, takePrefetchedPage, unauthorized } from "../api.js";
import { API, TIMING, WINDOW, windowSettings } from "../config.js";
import { ROW_SHAPE, rowsOf, rowsUrl } from "./rowpages.js";
import { RowWindow } from "./rowwindow.js";

/** One GET /rows: `params` (view, search, version) at `offset`, `limit` rows, in `shape`. `early`:
 * take the answer app.js asked at boot for this very URL, if it did (only the first load's first page:
 * a later load must not be given rows older than the event stream it follows). */
export async function fetchRows(params, { offset = 0, limit = TIMING.pageSize, shape = ROW_SHAPE, signal, early = false } = {}) {
  const url = rowsUrl(API.rows, params, { offset, limit, shape });
  const asked = early ? takePrefetchedPage(url) : null;
  if (asked) return asked;
  const response = await fetch(url, { headers: authHeaders(), signal });
  if (response.status === 401) { unauthorized(); throw new Error("signed out"); }
  if (!response.ok) throw Object.assign(new Error(`rows: HTTP ${response.status}`), { status: response.status });
  return response.json();
}

const gone = (e) => (e.status === 409 ? null : Promise.reject(e));  // the server let the listing's version go

// Safari has no requestIdleCallback: a timer then.
const idle = () => new Promise((resolve) => (window.requestIdleCallback ? requestIdleCallback(resolve, { timeout: 200 }) : setTimeout(resolve, 20)));

/**
 * The rows of the grid's current view, for `grid.js`. `hooks`: table() (null before the first load),
 * build(rows) (makes the table), params() (the view and search), editing() (an editor is open),
 * seen(version), count(total or null: the table's own count), fill(id, cells) (cells fetched for a
 * placeholder), stopped(), loaded() (every row is in).
 */
export function rowSource(gridEl, hooks) {
  let loads = 0;            // loads started: a newer one overtakes an older
  let waiters = [];
  let drawingHeld = false;
  let rowWindow = null;     // the RowWindow while the view has more rows than the table holds in full

  /** Tabulator's blockRedraw/restoreRedraw: rows added meanwhile are drawn (once) on release. */
  function holdDrawing(hold) {
    const table = hooks.table();
    if (!table || hold === drawingHeld) return;
    drawingHeld = hold;
    if (hold) table.blockRedraw(); else table.restoreRedraw();
  }

  const busy = () => gridEl.getAttribute("aria-busy") === "true";
  /** Resolves once every row of the current load is in the table. */
  const rowsIn = () => (busy() ? new Promise((resolve) => waiters.push(resolve)) : Promise.resolve());

  /** Whatever is still loading is for old columns or an old view: let it go. */
  function drop() {
    loads += 1;
    holdDrawing(false);
    rowWindow?.stop();
    rowWindow = null;
  }

  /**
   * The pages after the first, `each(rows)` awaited for each in order (stopping when it answers
   * false). PARALLEL_PAGES at once: over a 300 ms link one at a time spent most of the time waiting;
   * each is read in turn, so the main thread is never handed them all together. Resolves to false
   * when the server no longer holds the first page's version (load again), otherwise to true.
   */
  async function rest(params, from, total, each) {
    const offsets = [];
    for (let offset = from; offset < total; offset += TIMING.pageSize) offsets.push(offset);
    const asked = [];
    const ask = (i) => { if (i < offsets.length) asked[i] = fetchRows(params, { offset: offsets[i] }).catch(gone); };
    for (let i = 0; i < TIMING.parallelPages; i++) ask(i);
    for (let i = 0; i < offsets.length; i++) {
      const page = await asked[i];
      ask(i + TIMING.parallelPages);
      if (!page) return false;
      if (!await each(rowsOf(page))) return true;
    }
    return true;
  }

  /** The listing's ids as placeholder rows ({id}, and the grouped column's value) after the first page. */
  async function placeholders(params, from) {
    const listing = await fetchRows(params, { shape: "ids", limit: WINDOW.maxIds }).catch(gone);
    if (!listing) return null;
    const key = listing.group_by, values = listing.group_values;
    const rows = new Array(Math.max(0, listing.data.length - from));
    for (let i = from; i < listing.data.length; i++) rows[i - from] = key ? { id: listing.data[i], [key]: values[i] } : { id: listing.data[i] };
    return { ids: listing.data, rows, key, groups: key ? { list: listing.groups || [], values } : null };
  }

  /** Rows after the first page go in when the browser is idle (clicks and keys on the rows in view first). */
  async function addRows(rows, current) {
    await idle();
    if (!current()) return false;
    holdDrawing(true);
    await hooks.table().addData(rows, false);
    return true;
  }

  /**
   * The placeholders into the table at once, drawn by drawRest. Not addData: it copies the table's list
   * of active rows once per row added (setActiveRows), which at 100,000 rows took ~37 s in chunks of
   * 10,000. A Row is only its data until it is drawn, so making them is quick; the pipeline (sort,
   * groups) then runs once, when drawing is let go.
   */
  async function addPlaceholders(rows, current) {
    await idle();
    if (!current()) return false;
    const manager = hooks.table().rowManager;
    const Row = manager.rows[0].constructor;  // Tabulator's Row class (the module does not export it); the first page is in
    holdDrawing(true);
    for (const data of rows) manager.rows.push(new Row(data, manager));
    manager.refreshActiveData(false, false, true);  // deferred while drawing is held, in position when let go
    return true;
  }

  /** Draw the rows addRows and addPlaceholders added, once no editor is open: drawing redraws the rows in view, which would close it. */
  async function drawRest(current) {
    while (current() && hooks.editing()) await new Promise((resolve) => setTimeout(resolve, 200));
    if (!current()) return;
    holdDrawing(false);
    gridEl.removeAttribute("aria-busy");
    for (const resolve of waiters) resolve();
    waiters = [];
    hooks.loaded();
  }

  /** The rest of a listing too long to hold: placeholders, in chunks, then the window over them. */
  async function windowed(params, first, current) {
    const listing = await placeholders(params, first.length);
    if (!listing || !current()) return Boolean(listing);
    if (!await addPlaceholders(listing.rows, current)) return true;
    rowWindow = new RowWindow(hooks.table(), {
      ids: listing.ids, groupKey: listing.key, groups: listing.groups, fill: hooks.fill,
      load: (ids, signal) => fetchRows(new URLSearchParams({ ids: ids.join(",") }), { limit: ids.length, signal }),
    });
    rowWindow.loaded(first.map((r) => r.id));
    return true;
  }

  /**
   * Load the current view's rows: the first page drawn at once (into a new table, or replacing the
   * table's rows), the others added after it. Resolves once every row is in the table (the last ones
   * may wait to be drawn while an editor is open) to {version}, the first page's, or to null when
   * another load or a stop overtook this one.
   */
  async function load() {
    drop();
    const generation = loads;
    const current = () => generation === loads && !hooks.stopped();
    gridEl.setAttribute("aria-busy", "true");  // until every row is drawn
    for (let attempt = 1; ; attempt += 1) {
      const params = hooks.params();
      const first = await fetchRows(params, { limit: TIMING.firstPage, early: loads === 1 && attempt === 1 });
      if (!current()) return null;
      params.set("version", String(first.version));
      hooks.seen(first.version);
      holdDrawing(false);  // an earlier load may still be holding it
      const rows = rowsOf(first);
      if (hooks.table()) await hooks.table().replaceData(rows); else await hooks.build(rows);
      hooks.count(first.total);
      // Asked for once the first page is drawn: reading them would hold up the drawing.
      const complete = await (first.total > windowSettings().rows
        ? windowed(params, rows, current)
        : rest(params, TIMING.firstPage, first.total, (more) => addRows(more, current))).catch((e) => {
        if (current()) { holdDrawing(false); hooks.count(null); }  // show what came
        throw e;
      });
      if (!current()) return null;
      if (complete) {
        hooks.count(null);
        drawRest(current);
        return { version: first.version };
      }
      if (attempt === 3) throw new Error("the grid kept changing while its rows loaded: reload the page");
    }
  }

  return {
    load,
    drop,
    rowsIn,
    /** The current view's groups with their totals (GET /rows?shape=ids, one id: the groups come with any page). */
    groups: async () => (await fetchRows(hooks.params(), { shape: "ids", limit: 1 })).groups || [],
    /** The RowWindow, or null when the table holds every row of the view in full. */
    get window() { return rowWindow; },
  };
}
