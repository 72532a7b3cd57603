// Edits waiting to be saved: sent as ops in order, a burst of typing in one request.
// They are kept in sessionStorage until the server has them, so a 401 (sign in
// again), a lost connection or a reload never loses an edit; they are replayed
// with the version they were made against, so a conflict is still detected.
// Offline (the browser says so, or a request failed on the network, a 5xx or a 429)
// nothing is lost and nothing is hammered: the queue waits, retrying with a growing,
// jittered delay, and sends at once when the window's `online` event says the link is back.
import { api } from "../api.js";
import { API, STORAGE, TIMING } from "../config.js";

// The server applies at most this many cell changes per request (fundraising/ops.py MAX_CELL_CHANGES;
// an add_row counts its cells). A longer queue (a paste of 60,000 cells) goes as several requests,
// in order, each as soon as the one before is answered, rather than as one the server must refuse.
export const MAX_CELL_CHANGES = 50000;

/** How many of `ops`, from the front, fit in one request. */
export function fitting(ops, limit = MAX_CELL_CHANGES) {
  let changes = 0;
  for (let i = 0; i < ops.length; i += 1) {
    const op = ops[i];
    changes += op.op === "add_row" ? Math.max(1, Object.keys(op.cells || {}).length) : 1;
    if (changes > limit) return Math.max(1, i);
  }
  return ops.length;
}

export class SaveQueue {
  /**
   * hooks: status(state, detail), applied(result, ops), conflict(ops, payload) → Promise<"mine"|"theirs">,
   * rejected(ops, error), unfit(items: [{op, problem}], error): values the server said do not fit.
   */
  constructor(version, hooks) {
    this.version = version;       // the newest grid version this client has seen
    this.hooks = hooks;
    this.mine = new Set();        // versions our own requests made
    this.inFlight = false;
    this.sending = [];            // the ops of the request that is out
    this.offline = navigator.onLine === false;
    this.timer = null;
    this.attempt = 0;
    this.stopped = false;
    const saved = JSON.parse(sessionStorage.getItem(STORAGE.pendingOps) || "null");
    this.pending = saved?.ops || [];
    this.base = saved?.base ?? null;  // the version the oldest pending edit was made against
    this.online = () => this.backOnline();
    this.lost = () => this.wentOffline();
    window.addEventListener("online", this.online);
    window.addEventListener("offline", this.lost);
  }

  get size() { return this.pending.length; }

  /** Edits not yet saved: those waiting and those in the request that is out. */
  get waiting() { return this.pending.length + this.sending.length; }

  /** The ops not yet saved (waiting or out): the grid shows their values over anyone else's. */
  unsaved() { return this.sending.length ? [...this.sending, ...this.pending] : this.pending; }

  /** Say where the queue stands: offline wins over "pending" while the link is down. */
  tell(state) {
    if (this.offline && (state === "pending" || state === "saved")) state = "offline";
    this.hooks.status(state, this.waiting);
  }

  wentOffline() {
    this.offline = true;
    this.tell("offline");
  }

  /** The link is back: send what waits now, not when the backoff would have. */
  backOnline() {
    this.offline = false;
    this.attempt = 0;
    if (this.pending.length) this.flush();
    else if (!this.inFlight) this.tell("saved");
  }

  seen(version) { if (version > this.version) this.version = version; }

  /** Queue one op; set_cell on a cell already waiting replaces that value. */
  push(op, { now = false } = {}) {
    if (this.base === null) this.base = this.version;
    const same = op.op === "set_cell" && this.pending.findIndex((p) => p.op === "set_cell" && p.row_id === op.row_id && p.column_id === op.column_id);
    if (same !== false && same >= 0) this.pending[same] = op;
    else this.pending.push(op);
    this.persist();
    this.queued(now ? 0 : TIMING.saveDebounceMs);
  }

  /** Queue many ops at once (an undo of a paste): stored once, not once per op. */
  pushMany(ops) {
    if (!ops.length) return;
    if (this.base === null) this.base = this.version;
    const at = new Map();
    this.pending.forEach((p, i) => { if (p.op === "set_cell") at.set(`${p.row_id}|${p.column_id}`, i); });
    for (const op of ops) {
      const key = op.op === "set_cell" ? `${op.row_id}|${op.column_id}` : null;
      if (key && at.has(key)) this.pending[at.get(key)] = op;
      else { if (key) at.set(key, this.pending.length); this.pending.push(op); }
    }
    this.persist();
    this.queued(TIMING.saveDebounceMs);
  }

  // Offline, a new edit only adds to the count: the retry already planned (or the `online` event) sends it.
  queued(ms) {
    this.tell("pending");
    if (this.inFlight) return;  // flush's end schedules what came meanwhile
    if (!this.offline || !this.timer) this.schedule(ms);
  }

  schedule(ms) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => { this.timer = null; this.flush(); }, ms);
  }

  /** After a failure: wait longer each time (jittered, so that many tabs do not retry in step). */
  retryLater() {
    const wait = TIMING.retryMs[Math.min(this.attempt, TIMING.retryMs.length - 1)];
    this.attempt += 1;
    this.schedule(Math.round(wait * (0.8 + Math.random() * 0.4)));
  }

  // The request that is out is stored too: if the page goes before it is answered, it is sent again
  // (a set_cell sent twice is harmless; a batch that did arrive is refused whole, its edits already saved).
  persist() {
    const ops = this.unsaved();
    if (!ops.length) { sessionStorage.removeItem(STORAGE.pendingOps); return; }
    try {
      sessionStorage.setItem(STORAGE.pendingOps, JSON.stringify({ base: this.base, ops }));
    } catch {
      // Over the storage quota (a paste of 50,000 cells is ~7 MB of ops): they are kept in memory and
      // sent as usual; an older stored copy is dropped so that a reload never replays a stale subset.
      sessionStorage.removeItem(STORAGE.pendingOps);
    }
  }

  async flush() {
    if (this.stopped || this.inFlight || !this.pending.length) return;
    clearTimeout(this.timer);
    this.timer = null;
    if (navigator.onLine === false) {
      // The browser knows there is no link: no request (it could only fail), just the next try.
      this.offline = true;
      this.tell("offline");
      this.retryLater();
      return;
    }
    const count = fitting(this.pending);
    const whole = count === this.pending.length;
    const ops = this.pending.splice(0, count);
    this.sending = ops;
    const base = this.base ?? this.version;
    this.inFlight = true;
    this.hooks.status("saving", this.waiting);
    try {
      const result = await api("POST", API.ops, { base_version: base, ops });
      this.sending = [];
      this.mine.add(result.version);
      this.seen(result.version);
      // The rest of a queue split in parts keeps the version its edits were made against (our own
      // part just saved is no conflict: the server checks others' changes only).
      this.base = this.pending.length ? (whole ? this.version : base) : null;
      this.attempt = 0;
      this.offline = navigator.onLine === false;
      this.hooks.applied(result, ops);
      this.tell(this.pending.length ? "pending" : "saved");
    } catch (error) {
      this.sending = [];
      await this.failed(error, ops);
    } finally {
      this.sending = [];
      this.inFlight = false;
      this.persist();
      // The rest of a long queue goes at once; edits made meanwhile wait the usual debounce.
      const rest = this.pending.length >= MAX_CELL_CHANGES;
      if (this.pending.length && !this.stopped && this.attempt === 0 && !this.timer) this.schedule(rest ? 0 : TIMING.saveDebounceMs);
    }
  }

  async failed(error, ops) {
    const requeue = (list, base) => {
      this.pending.unshift(...list);
      if (base !== undefined) this.base = base;
      else if (this.base === null) this.base = this.version;
    };
    if (error.status === 401) {
      // Kept (and stored) until signed in again: the grid is mounted afresh and sends them then.
      requeue(ops, this.base ?? undefined);
      this.hooks.status("signed-out", this.pending.length);
    } else if (!error.status || error.status >= 500 || error.status === 429) {
      // Offline or the server is down: keep everything and try again, more slowly each time.
      requeue(ops);
      this.offline = true;
      this.tell("offline");
      this.retryLater();
    } else if (error.status === 409 && error.payload.conflicts) {
      const current = error.payload.current_version;
      this.seen(current);
      const choice = await this.hooks.conflict(ops, error.payload);
      const clash = new Set(error.payload.conflicts.map((c) => `${c.row_id}|${c.column_id}`));
      const keep = choice === "mine" ? ops : ops.filter((op) => !(op.op === "set_cell" && clash.has(`${op.row_id}|${op.column_id}`)));
      requeue(keep, current);
      this.attempt = 0;  // the server answered: send the kept edits now, not after a network retry that is no longer due
      this.tell("pending");
    } else if (error.status === 422 && Array.isArray(error.payload.unfit) && error.payload.unfit.length) {
      // Some values do not fit their columns ('Alex' in a Status): the server applied nothing and named
      // each one. Those are dropped (the grid marks them); the others go again at once.
      const unfit = new Map(error.payload.unfit.map((u) => [u.index, u]));
      const items = ops.flatMap((op, i) => (unfit.has(i) ? [{ op, problem: unfit.get(i) }] : []));
      requeue(ops.filter((_, i) => !unfit.has(i)));
      this.hooks.unfit(items, error);
      this.tell(this.pending.length ? "pending" : "saved");
    } else {
      // Refused (422, 423, 409 on an archived row...): these edits cannot be saved as they are. The grid
      // shows the server's values again and says why; the save line then tells what is still waiting.
      this.hooks.rejected(ops, error);
      this.tell(this.pending.length ? "pending" : "saved");
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.online);
    window.removeEventListener("offline", this.lost);
    this.persist();
  }
}
