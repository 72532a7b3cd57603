// Edits waiting to be saved: sent as ops in order, a burst of typing in one request.
// They are kept in sessionStorage until the server has them, so a 401 (sign in
// again), a lost connection or a reload never loses an edit; they are replayed
// with the version they were made against, so a conflict is still detected.
import { api } from "../api.js";
import { API, STORAGE, TIMING } from "../config.js";

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
    this.timer = null;
    this.attempt = 0;
    this.stopped = false;
    const saved = JSON.parse(sessionStorage.getItem(STORAGE.pendingOps) || "null");
    this.pending = saved?.ops || [];
    this.base = saved?.base ?? null;  // the version the oldest pending edit was made against
    this.online = () => this.flush();
    window.addEventListener("online", this.online);
  }

  get size() { return this.pending.length; }

  seen(version) { if (version > this.version) this.version = version; }

  /** Queue one op; set_cell on a cell already waiting replaces that value. */
  push(op, { now = false } = {}) {
    if (this.base === null) this.base = this.version;
    const same = op.op === "set_cell" && this.pending.findIndex((p) => p.op === "set_cell" && p.row_id === op.row_id && p.column_id === op.column_id);
    if (same !== false && same >= 0) this.pending[same] = op;
    else this.pending.push(op);
    this.persist();
    this.hooks.status("pending", this.pending.length);
    this.schedule(now ? 0 : TIMING.saveDebounceMs);
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
    this.hooks.status("pending", this.pending.length);
    this.schedule(TIMING.saveDebounceMs);
  }

  schedule(ms) {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.flush(), ms);
  }

  persist() {
    if (!this.pending.length) { sessionStorage.removeItem(STORAGE.pendingOps); return; }
    try {
      sessionStorage.setItem(STORAGE.pendingOps, JSON.stringify({ base: this.base, ops: this.pending }));
    } catch {
      // Over the storage quota (a paste of 50,000 cells is ~7 MB of ops): they are kept in memory and
      // sent as usual; an older stored copy is dropped so that a reload never replays a stale subset.
      sessionStorage.removeItem(STORAGE.pendingOps);
    }
  }

  async flush() {
    if (this.stopped || this.inFlight || !this.pending.length) return;
    clearTimeout(this.timer);
    const ops = this.pending.splice(0);
    const base = this.base ?? this.version;
    this.inFlight = true;
    this.hooks.status("saving", ops.length);
    try {
      const result = await api("POST", API.ops, { base_version: base, ops });
      this.mine.add(result.version);
      this.seen(result.version);
      this.base = this.pending.length ? this.version : null;
      this.attempt = 0;
      this.hooks.applied(result, ops);
      this.hooks.status(this.pending.length ? "pending" : "saved", this.pending.length);
    } catch (error) {
      await this.failed(error, ops);
    } finally {
      this.inFlight = false;
      this.persist();
      if (this.pending.length && !this.stopped && this.attempt === 0) this.schedule(TIMING.saveDebounceMs);
    }
  }

  async failed(error, ops) {
    const requeue = (list, base) => {
      this.pending.unshift(...list);
      if (base !== undefined) this.base = base;
      else if (this.base === null) this.base = this.version;
    };
    if (error.status === 401) {
      requeue(ops, this.base ?? undefined);
      this.hooks.status("signed-out", this.pending.length);
    } else if (!error.status || error.status >= 500 || error.status === 429) {
      // Offline or the server is down: keep everything and try again, more slowly each time.
      requeue(ops);
      const wait = TIMING.retryMs[Math.min(this.attempt, TIMING.retryMs.length - 1)];
      this.attempt += 1;
      this.hooks.status("offline", this.pending.length);
      this.schedule(wait);
    } else if (error.status === 409 && error.payload.conflicts) {
      const current = error.payload.current_version;
      this.seen(current);
      const choice = await this.hooks.conflict(ops, error.payload);
      const clash = new Set(error.payload.conflicts.map((c) => `${c.row_id}|${c.column_id}`));
      const keep = choice === "mine" ? ops : ops.filter((op) => !(op.op === "set_cell" && clash.has(`${op.row_id}|${op.column_id}`)));
      requeue(keep, current);
      this.attempt = 0;  // the server answered: send the kept edits now, not after a network retry that is no longer due
      this.hooks.status("pending", this.pending.length);
    } else if (error.status === 422 && Array.isArray(error.payload.unfit) && error.payload.unfit.length) {
      // Some values do not fit their columns ('Alex' in a Status): the server applied nothing and named
      // each one. Those are dropped (the grid marks them); the others go again at once.
      const unfit = new Map(error.payload.unfit.map((u) => [u.index, u]));
      const items = ops.flatMap((op, i) => (unfit.has(i) ? [{ op, problem: unfit.get(i) }] : []));
      requeue(ops.filter((_, i) => !unfit.has(i)));
      this.hooks.unfit(items, error);
      this.hooks.status(this.pending.length ? "pending" : "saved", this.pending.length);
    } else {
      // Refused (422, 423, 409 on an archived row...): these edits cannot be saved as they are. The grid
      // shows the server's values again and says why; the save line then tells what is still waiting.
      this.hooks.rejected(ops, error);
      this.hooks.status(this.pending.length ? "pending" : "saved", this.pending.length);
    }
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this.online);
    this.persist();
  }
}
