// Modules the first screen does not need, loaded on first use: over a slow link every module in the
// page's static graph is a request the first rows wait for (six at a time per host on HTTP/1.1), so
// what only a click uses (the drawer, the dialogs...) stays out of it (issue 21).
// `later(() => import(<a literal path>))`: the specifier must stay a string literal, so the server can
// version it (backend/crm/http/assets.py) and leave it out of index.html's modulepreload list.
// Once the first page is up and the browser idle, app.js calls warmLater(): every module declared
// here is fetched then, so a click seldom waits for one (and one declared later is fetched at once).

const parts = new Set();
let warm = false;

const idle = (fn) => (window.requestIdleCallback || ((f) => setTimeout(f, 0)))(fn);
const fetchQuietly = (part) => idle(() => part.get().catch(() => {}));

/** A module loaded on demand: `get()` resolves to it (one import, retried after a failure); `module` is it once loaded. */
export function later(load) {
  let promise = null;
  const part = {
    module: null,
    get() {
      promise ||= load().then((module) => (part.module = module), (error) => { promise = null; throw error; });
      return promise;
    },
  };
  parts.add(part);
  if (warm) fetchQuietly(part);
  return part;
}

/** Fetch every module declared with later() (and any declared from now on) when the browser is idle. */
export function warmLater() {
  if (warm) return;
  warm = true;
  for (const part of parts) fetchQuietly(part);
}
