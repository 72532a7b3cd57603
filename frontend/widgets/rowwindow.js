// The window of rows, for a view too long to hold in full (more than WINDOW.rows, config.js): the
// table holds a placeholder row for every row of the listing ({id}, and the grouped column's value
// so that Tabulator groups it), so the scrollbar is the whole listing's and every row has its place;
// the cells of the rows drawn, and WINDOW.margin rows either side, are fetched by id (GET /rows?ids=)
// in pages of WINDOW.pageRows, as the grid scrolls (looked at every WINDOW.throttleMs, stale fetches
// cancelled), and the pages least lately used are emptied again once more than WINDOW.heldPages are
// held. A copy, paste or fill over rows not held fetches them first (ensure) and holds them while it
// runs. Changes from the event stream to a row without its cells are noted, and applied over its
// page when the page's version is older (the page was read before they were made).
import { WINDOW } from "../config.js";
import { rowsOf } from "./rowpages.js";

const MAX_NOTES = 20000;

export class RowWindow {
  /**
   * `table`: Tabulator, holding the placeholders; `ids`: the listing in order; `groupKey`: the grouped
   * column (kept in emptied rows); `groups`: the server's groups and the listing's grouped values
   * ({list, values}: grouptotals.js), or null; `load(ids, signal)`: a page of those rows (GET /rows?ids=);
   * `fill(row, cells)`: show fetched cells in a row (the grid keeps unsaved edits and open editors).
   */
  constructor(table, { ids, groupKey = null, groups = null, load, fill }) {
    Object.assign(this, { table, ids, groupKey, groups, load, fill });
    this.at = new Map();        // id -> its index in the listing (its page: index / pageRows)
    for (let i = 0; i < ids.length; i++) this.at.set(ids[i], i);
    this.rows = new Map();      // id -> Tabulator's row: findRow walks all 100,000 rows for each id
    for (const row of table.rowManager.rows) this.rows.set(row.data.id, row);
    this.have = new Set();      // ids whose cells are in their row
    this.held = new Map();      // page -> when it was last in view (a tick)
    this.asking = new Map();    // page -> the AbortController of its fetch
    this.pins = new Map();      // page -> how many actions (copy, paste, fill) hold it
    this.inView = new Set();
    this.notes = [];            // stream changes to rows without their cells: {version, row_id, column_id, after}
    this.tick = 0;
    this.timer = null;
    this.stopped = false;
    this.onScroll = () => this.schedule();
    this.onAdded = (row) => { const r = row._getSelf(); this.rows.set(r.data.id, r); this.have.add(r.data.id); };
    this.onDeleted = (row) => { this.rows.delete(row._getSelf().data.id); };
    table.on("scrollVertical", this.onScroll);
    table.on("rowAdded", this.onAdded);
    table.on("rowDeleted", this.onDeleted);
    this.schedule();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    clearTimeout(this.selectTimer);
    for (const controller of this.asking.values()) controller.abort();
    this.asking.clear();
    this.table.off("scrollVertical", this.onScroll);
    this.table.off("rowAdded", this.onAdded);
    this.table.off("rowDeleted", this.onDeleted);
  }

  /** Tabulator's row with this id, or undefined (without walking every row). */
  row(id) { return this.rows.get(id); }

  /** Is this row's data all there (its cells fetched, or a row with none: one added since the listing)? */
  holds(id) { return this.have.has(id) || !this.at.has(id); }

  /** How many rows hold their cells (the tests bound it). */
  get heldRows() { return this.have.size; }

  /** These rows arrived with their cells (the first page). */
  loaded(ids) {
    for (const id of ids) this.have.add(id);
    for (const page of new Set(ids.map((id) => this.pageOf(id)))) if (page !== null) this.held.set(page, ++this.tick);
  }

  /** A change from the stream to a row without its cells: applied when its page comes, if the page is older. */
  note(op) {
    this.notes.push(op);
    if (this.notes.length > MAX_NOTES * 1.25) this.notes.splice(0, this.notes.length - MAX_NOTES);
  }

  pageOf(id) { const at = this.at.get(id); return at === undefined ? null : Math.floor(at / WINDOW.pageRows); }
  idsOf(page) { return this.ids.slice(page * WINDOW.pageRows, (page + 1) * WINDOW.pageRows); }
  missingOf(page) { return this.idsOf(page).filter((id) => !this.have.has(id) && this.rows.has(id)); }

  /** Look at the rows in view at most every throttleMs while scrolling, and once after. */
  schedule() {
    if (this.timer || this.stopped) return;
    this.timer = setTimeout(() => { this.timer = null; this.update(); }, WINDOW.throttleMs);
  }

  /** The pages of the rows drawn (and the margin), nearest the middle first. */
  wanted() {
    const manager = this.table.rowManager;
    const shown = manager.getDisplayRows();
    const { vDomTop = 0, vDomBottom = 0 } = manager.renderer;
    const middle = (vDomTop + vDomBottom) / 2;
    const pages = new Map();
    for (let i = Math.max(0, vDomTop - WINDOW.margin); i <= Math.min(shown.length - 1, vDomBottom + WINDOW.margin); i++) {
      const page = shown[i].type === "row" ? this.pageOf(shown[i].data.id) : null;
      if (page !== null && !pages.has(page)) pages.set(page, Math.abs(i - middle));
    }
    return [...pages.keys()].sort((a, b) => pages.get(a) - pages.get(b));
  }

  update() {
    if (this.stopped) return;
    const wanted = this.wanted();
    this.inView = new Set(wanted);
    for (const [page, controller] of this.asking) {
      if (!this.inView.has(page) && !this.pins.get(page)) { controller.abort(); this.asking.delete(page); }
    }
    for (const page of wanted) if (this.held.has(page)) this.held.set(page, ++this.tick);
    for (const page of wanted) {
      if (this.asking.size >= WINDOW.parallel) break;
      if (this.asking.has(page)) continue;
      const missing = this.missingOf(page);
      if (missing.length) this.fetchPage(page, missing);
    }
  }

  async fetchPage(page, ids) {
    const controller = new AbortController();
    this.asking.set(page, controller);
    try {
      const answer = await this.load(ids, controller.signal);
      if (this.stopped || controller.signal.aborted) return;
      this.put(answer);
      this.held.set(page, ++this.tick);
    } catch {
      // Aborted (scrolled away) or failed: it is asked for again while it is in view.
    } finally {
      if (this.asking.get(page) === controller) this.asking.delete(page);
    }
    if (this.stopped) return;
    this.evict();
    this.schedule();
  }

  /** A page's rows into their placeholders, then the stream's changes newer than the page. */
  put(answer) {
    const rows = rowsOf(answer);
    const got = new Set();
    for (const data of rows) {
      const row = this.rows.get(data.id);
      if (!row || this.have.has(data.id)) continue;  // archived meanwhile, or already filled (by another fetch)
      this.have.add(data.id);
      got.add(data.id);
      this.fill(row.getComponent(), data);
    }
    for (const op of this.notes) {
      if (op.version > answer.version && got.has(op.row_id)) this.fill(this.rows.get(op.row_id).getComponent(), { [op.column_id]: op.after });
    }
  }

  /** Empty the pages least lately in view, beyond heldPages (not those in view, nor those an action holds). */
  evict() {
    if (this.held.size <= WINDOW.heldPages) return;
    const spare = [...this.held.keys()].filter((page) => !this.inView.has(page) && !this.pins.get(page))
      .sort((a, b) => this.held.get(a) - this.held.get(b));
    for (const page of spare.slice(0, this.held.size - WINDOW.heldPages)) this.empty(page);
  }

  empty(page) {
    this.held.delete(page);
    for (const id of this.idsOf(page)) {
      const row = this.rows.get(id);
      if (!row || !this.have.has(id) || row.element?.isConnected) continue;  // a drawn row keeps its cells
      this.have.delete(id);
      row.deleteCells();
      if (row.element) row.element.replaceChildren();
      row.initialized = false;  // its cells are made again from its data when it is drawn
      row.data = this.groupKey ? { id, [this.groupKey]: row.data[this.groupKey] } : { id };
    }
  }

  /**
   * The selected range's rows (components, or a function giving them), fetched ahead once the selection
   * has settled, so that a copy seldom waits, and held while they stay selected (up to WINDOW.selectRows).
   */
  select(rows) {
    clearTimeout(this.selectTimer);
    this.selectTimer = setTimeout(() => {
      const mine = (this.selection = (this.selection || 0) + 1);
      this.unselect?.();
      this.unselect = null;
      const list = typeof rows === "function" ? rows() : rows;
      if (this.stopped || !list.length || list.length > WINDOW.selectRows) return;
      this.ensure(list).then((release) => { if (mine === this.selection && !this.stopped) this.unselect = release; else release(); }, () => {});
    }, WINDOW.selectMs);
  }

  /** How many of these rows (components) have no cells yet. */
  missing(rows) {
    let n = 0;
    for (const row of rows) if (!this.holds(row._getSelf().data.id)) n += 1;
    return n;
  }

  /**
   * Fetch the cells of these rows (components) that have none, and hold their pages until
   * `release()` (the returned promise's value) is called: a copy or paste works on them meanwhile.
   */
  async ensure(rows) {
    const ids = rows.map((row) => row._getSelf().data.id);
    const pages = [...new Set(ids.map((id) => this.pageOf(id)).filter((page) => page !== null))];
    for (const page of pages) this.pins.set(page, (this.pins.get(page) || 0) + 1);
    const release = () => {
      for (const page of pages) { const n = this.pins.get(page) - 1; if (n > 0) this.pins.set(page, n); else this.pins.delete(page); }
      this.evict();
    };
    try {
      const missing = ids.filter((id) => !this.holds(id));
      const chunks = [];
      for (let i = 0; i < missing.length; i += WINDOW.askIds) chunks.push(missing.slice(i, i + WINDOW.askIds));
      const next = async () => {
        while (chunks.length && !this.stopped) this.put(await this.load(chunks.shift()));
      };
      await Promise.all(Array.from({ length: WINDOW.parallel }, next));
      for (const page of pages) this.held.set(page, ++this.tick);
    } catch (e) {
      release();
      throw e;
    }
    return release;
  }
}
